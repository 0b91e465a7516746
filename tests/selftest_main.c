/* ts_selftest: runs every self-test (ts_<thing>_test) or the ones named on the command line. */
#include "escrow/ts_abi.h"
#include "escrow/ts_eth.h"
#include "escrow/ts_ethkey.h"
#include "escrow/ts_ethtx.h"
#include "escrow/ts_hexbytes.h"
#include "escrow/escrow.h"
#include "escrow/ts_keccak.h"
#include "escrow/ts_payout.h"
#include "escrow/ts_rlp.h"
#include "escrow/ts_rpc.h"
#include "lib/ts_account.h"
#include "lib/ts_blobs.h"
#include "lib/ts_conf.h"
#include "lib/ts_hours.h"
#include "lib/ts_hash.h"
#include "lib/ts_identity.h"
#include "lib/ts_kind.h"
#include "lib/ts_manifest.h"
#include "lib/ts_request.h"
#include "lib/ts_sse.h"
#include "lib/ts_token.h"
#include "lib/ts_wire.h"
#include "master/ts_api_quote.h"
#include "master/ts_jobreq.h"
#include "master/ts_jobtype.h"
#include "master/ts_ratelimit.h"
#include "master/ts_store.h"
#include "master/ts_store_view.h"
#include "slave/ts_blender_info.h"
#include "slave/ts_cheat.h"
#include "slave/ts_ctl.h"
#include "slave/ts_exclusive.h"
#include "slave/ts_idle.h"
#include "slave/ts_layout.h"
#include "slave/ts_sandbox.h"
#include "slave/ts_box.h"
#include "slave/ts_gpu.h"
#include "slave/ts_segenc.h"
#include "splitter/ts_concat.h"
#include "splitter/ts_framevid.h"
#include "verifier/ts_segcheck.h"
#include "splitter/ts_segplan.h"
#include "splitter/ts_sheet.h"
#include "splitter/ts_image.h"
#include "splitter/ts_stitch.h"
#include "splitter/ts_tileplan.h"
#include "torrent/torrent.h"
#include "verifier/ts_agree.h"
#include "splitter/ts_exrhead.h"
#include "splitter/ts_pnghead.h"
#include "verifier/ts_policy.h"
#include "verifier/ts_pixdiff.h"
#include "tests/ts_test.h"
#include <stdio.h>
#include <string.h>

int ts_cli_test(bool verbose);
int ts_cli_project_test(bool verbose);
int cli_jobvars_test(bool verbose);
int ts_store_verify_test(bool verbose);
int ts_store_shares_test(bool verbose);
int ts_node_gpus_test(bool verbose);
int ts_synthetic_test(bool verbose);
int ts_index_test(bool verbose);
int ts_verifier_test(bool verbose);
int ts_results_test(bool verbose);

static const struct {
    const char *name;
    int (*fn)(bool verbose);
} s_tests[] = {
    {"hash", ts_hash_test},         {"identity", ts_identity_test}, {"wire", ts_wire_test},
    {"blobs", ts_blobs_test},       {"jobreq", ts_jobreq_test},     {"jobtype", ts_jobtype_test},     {"store", ts_store_test},
    {"request", ts_request_test},   {"manifest", ts_manifest_test}, {"layout", ts_layout_test},
    {"tileplan", ts_tileplan_test}, {"stitch", ts_stitch_test},     {"image", ts_image_test},
    {"sheet", ts_sheet_test},
    {"cli", ts_cli_test},           {"segenc", ts_segenc_test},     {"segplan", ts_segplan_test},
    {"project", ts_cli_project_test}, {"jobvars", cli_jobvars_test},
    {"token", ts_token_test},       {"account", ts_account_test},   {"ratelimit", ts_ratelimit_test},
    {"hours", ts_hours_test},       {"conf", ts_conf_test},         {"idle", ts_idle_test},
    {"exclusive", ts_exclusive_test}, {"ctl", ts_ctl_test},
    {"concat", ts_concat_test},     {"framevid", ts_framevid_test}, {"torrent", ts_torrent_test},
    {"verify", ts_store_verify_test}, {"verifier", ts_verifier_test}, {"results", ts_results_test}, {"segcheck", ts_segcheck_test},
    {"shares", ts_store_shares_test}, {"node_gpus", ts_node_gpus_test}, {"synthetic", ts_synthetic_test}, {"index", ts_index_test},
    {"blenderinfo", ts_blender_info_test},
    {"sandbox", ts_sandbox_test}, {"box", ts_box_test}, {"gpu", ts_gpu_test},
    {"requeue", ts_store_requeue_test},
    {"events", ts_store_events_test}, {"sse", ts_sse_test},
    {"storeview", ts_store_view_test}, {"quote", ts_api_quote_test},
    {"cheat", ts_cheat_test},       {"kind", ts_kind_test},         {"pixdiff", ts_pixdiff_test},   {"agree", ts_agree_test},       {"policy", ts_policy_test},     {"exrhead", ts_exrhead_test},  {"pnghead", ts_pnghead_test},
    {"keccak", ts_keccak_test},     {"hexbytes", ts_hexbytes_test}, {"rlp", ts_rlp_test},
    {"abi", ts_abi_test},           {"ethkey", ts_ethkey_test},     {"ethtx", ts_ethtx_test},
    {"rpc", ts_rpc_test},           {"eth_anvil", ts_eth_anvil_test}, {"ledger", ts_ledger_test}, {"payout", ts_payout_test},
};

int main(int argc, char **argv)
{
    bool verbose = false;
    int passed = 0, failed = 0, skipped = 0, first = 1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = true;
        first = 2;
    }
    for (size_t i = 0; i < sizeof s_tests / sizeof s_tests[0]; i++) {
        bool chosen = argc <= first;
        for (int a = first; a < argc; a++)
            chosen = chosen || strcmp(argv[a], s_tests[i].name) == 0;
        if (!chosen)
            continue;
        int rc = s_tests[i].fn(verbose);
        printf("%s %s\n", rc == 0 ? "PASS" : rc == TS_TEST_SKIPPED ? "SKIP" : "FAIL", s_tests[i].name);
        if (rc == 0)
            passed++;
        else if (rc == TS_TEST_SKIPPED)
            skipped++;
        else
            failed++;
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
