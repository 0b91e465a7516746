/* cli_escrow: `tessera escrow deploy` (the token and JobEscrow contracts on a chain) and `tessera escrow stake`
   (a node's stake, paid from the key's tokens). These talk to the chain directly, not to a master. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "escrow/escrow.h"
#include "escrow/ts_jobescrow.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <string.h>

#define ESCROW_SYNOPSIS "escrow deploy|stake --rpc URL --key-file FILE [options]"
#define ESCROW_SUMMARY                                                                                             \
    "deploy: deploys the TesseraToken and JobEscrow contracts, the key's account their admin, operator and\n"     \
    "verifier (what tessera-master --escrow evm --key-file uses), and prints JSON with token and escrow.\n"        \
    "stake: stakes --amount tokens of the key's account for --for ADDRESS (default: the key's own account)."
#define DEFAULT_SUPPLY "1000000000"   /* tokens minted to the deployer */
#define DEFAULT_COOLDOWN "604800"     /* seconds a withdrawal of stake waits: a week */

static int chain_error(const char *what)
{
    return cli_fail(strstr(ts_error(), "unreachable") ? CLI_EXIT_MASTER : CLI_EXIT_USAGE, "escrow %s: %s", what,
                    ts_error());
}

static int deploy(ts_eth_t *eth, const char *supply_text, const char *treasury_text, long cooldown)
{
    int64_t supply;
    if (ts_amount_parse(supply_text, &supply) < 0)
        return cli_fail(CLI_EXIT_USAGE, "--supply %s", ts_error());
    ts_address_t treasury, token, escrow;
    ts_eth_address(eth, treasury);
    if (treasury_text && ts_eth_address_parse(treasury_text, treasury) < 0)
        return cli_fail(CLI_EXIT_USAGE, "--treasury %s", ts_error());
    uint64_t gas = 0;
    if (ts_jobescrow_deploy(eth, supply, treasury, (uint64_t)cooldown, token, escrow, &gas) < 0)
        return chain_error("deploy");
    char t[TS_ETH_ADDRESS_HEX], e[TS_ETH_ADDRESS_HEX], d[TS_ETH_ADDRESS_HEX], tr[TS_ETH_ADDRESS_HEX];
    ts_address_t me;
    ts_eth_address(eth, me);
    json_t *out = json_pack("{s:s,s:s,s:I,s:s,s:s,s:I}", "token", ts_eth_address_format(token, t), "escrow",
                            ts_eth_address_format(escrow, e), "chain_id", (json_int_t)ts_eth_chain_id(eth), "deployer",
                            ts_eth_address_format(me, d), "treasury", ts_eth_address_format(treasury, tr), "gas",
                            (json_int_t)gas);
    cli_print_json(out);
    json_decref(out);
    return 0;
}

static int stake(ts_eth_t *eth, const char *escrow_text, const char *amount_text, const char *for_text)
{
    ts_address_t escrow, worker;
    int64_t amount;
    if (!escrow_text || ts_eth_address_parse(escrow_text, escrow) < 0)
        return cli_fail(CLI_EXIT_USAGE, "--escrow-address %s", escrow_text ? ts_error() : "is required");
    if (!amount_text || ts_amount_parse(amount_text, &amount) < 0 || amount <= 0)
        return cli_fail(CLI_EXIT_USAGE, "--amount %s", amount_text ? "must be a token amount above 0" : "is required");
    ts_eth_address(eth, worker);
    if (for_text && ts_eth_address_parse(for_text, worker) < 0)
        return cli_fail(CLI_EXIT_USAGE, "--for %s", ts_error());
    ts_jobescrow_t *ce = ts_jobescrow_new(eth, escrow);
    if (!ce)
        return chain_error("stake");
    int64_t active = 0, pending = 0;
    int rc = ts_jobescrow_approve(ce, amount) < 0 || ts_jobescrow_stake_for(ce, worker, amount) < 0 ||
                     ts_jobescrow_stake_of(ce, worker, &active, &pending) < 0
                 ? chain_error("stake")
                 : 0;
    ts_jobescrow_destroy(&ce);
    if (rc == 0) {
        char w[TS_ETH_ADDRESS_HEX];
        json_t *out = json_pack("{s:s,s:I}", "worker", ts_eth_address_format(worker, w), "stake", (json_int_t)active);
        cli_print_json(out);
        json_decref(out);
    }
    return rc;
}

int cli_cmd_escrow(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *rpc = NULL, *key_file = NULL, *treasury = NULL, *supply = NULL, *escrow = NULL, *amount = NULL,
               *for_addr = NULL;
    long chain_id = 0, cooldown = 0;
    ts_opt_t table[] = {
        {"rpc", TS_OPT_STRING, NULL, 1, 0, &rpc, "the chain's JSON-RPC URL (required)"},
        {"key-file", TS_OPT_STRING, NULL, 1, 0, &key_file, "the sending account's secp256k1 key, 64 hex digits (required)"},
        {"chain-id", TS_OPT_INT, "0", 0, 2147483647, &chain_id, "the chain id the RPC must report (0: any)"},
        {"treasury", TS_OPT_STRING, NULL, 1, 0, &treasury, "deploy: where slashed stakes go (default: the key's account)"},
        {"supply", TS_OPT_STRING, DEFAULT_SUPPLY, 1, 0, &supply, "deploy: tokens minted to the key's account"},
        {"cooldown", TS_OPT_INT, DEFAULT_COOLDOWN, 0, 31536000, &cooldown, "deploy: seconds a stake withdrawal waits"},
        {"escrow-address", TS_OPT_STRING, NULL, 1, 0, &escrow, "stake: the JobEscrow contract"},
        {"amount", TS_OPT_STRING, NULL, 1, 0, &amount, "stake: tokens to stake"},
        {"for", TS_OPT_STRING, NULL, 1, 0, &for_addr, "stake: the node's payout address (default: the key's account)"},
        TS_OPT_END,
    };
    char *pos[1];
    int npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, 1, &npos, ESCROW_SYNOPSIS, ESCROW_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    if (npos != 1 || (strcmp(pos[0], "deploy") != 0 && strcmp(pos[0], "stake") != 0))
        return cli_fail(CLI_EXIT_USAGE, "escrow: deploy or stake? (usage: %s %s)", CLI_PROG, ESCROW_SYNOPSIS);
    if (!rpc || !key_file)
        return cli_fail(CLI_EXIT_USAGE, "escrow %s: --rpc and --key-file are required", pos[0]);
    ts_eth_t *eth = ts_eth_new(rpc, key_file, (uint64_t)chain_id);
    if (!eth)
        return chain_error(pos[0]);
    int rc = strcmp(pos[0], "deploy") == 0 ? deploy(eth, supply, treasury, cooldown) : stake(eth, escrow, amount, for_addr);
    ts_eth_destroy(&eth);
    return rc;
}
