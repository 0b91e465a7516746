/* ts_node_gpus_test: self-test of a Hello's GPUs as the master keeps them: text cleaned, the lent models named in the
   device class, the least free memory of the lent GPUs. */
#include "lib/ts_error.h"
#include "master/ts_node_gpus.h"
#include "tests/ts_test.h"
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

int ts_node_gpus_test(bool verbose)
{
    int failures = 0;
    Tessera__Gpu g[3], *ptrs[3];
    const char *names[3] = {"NVIDIA RTX 4090", "llvmpipe (LLVM 15.0.6, 256 bits)", "AMD\xff\x01 W7900"};
    const uint64_t free_mb[3] = {20000, 2048, 40000};
    for (int i = 0; i < 3; i++) {
        tessera__gpu__init(&g[i]);
        g[i].index = (uint32_t)i;
        g[i].name = (char *)names[i];
        g[i].type = i == 1 ? "cpu" : "discrete";
        g[i].uuid = "0123";
        g[i].memory_mb = free_mb[i] + 1000;
        g[i].free_mb = free_mb[i];
        g[i].enabled = i != 1;
        ptrs[i] = &g[i];
    }
    Tessera__Hello h = TESSERA__HELLO__INIT;
    h.gpus = ptrs;
    h.n_gpus = 3;
    char klass[160] = "4.2.3/GPU/OPTIX";
    ts_node_gpus_t out;
    json_t *arr = NULL;
    TS_TEST_REQUIRE(ts_node_gpus(&h, &out, klass, sizeof klass) == 0);
    arr = json_loads(out.json, 0, NULL);
    TS_TEST_CHECK(json_array_size(arr) == 3, "3 GPUs kept: %s", out.json);
    json_t *cpu = json_array_get(arr, 1), *amd = json_array_get(arr, 2);
    TS_TEST_CHECK(json_is_false(json_object_get(cpu, "enabled")) &&
                      strcmp(json_string_value(json_object_get(cpu, "type")), "cpu") == 0 &&
                      json_integer_value(json_object_get(cpu, "memory_mb")) == 3048,
                  "the CPU device is listed, not lent: %s", out.json);
    TS_TEST_CHECK(amd && strcmp(json_string_value(json_object_get(amd, "name")), "AMD?? W7900") == 0,
                  "a name's bytes outside printable ASCII are replaced: %s", out.json);
    TS_TEST_CHECK(out.lent == 2 && out.vram_free == 20000LL << 20, "2 lent, the least free %lld", (long long)out.vram_free);
    TS_TEST_CHECK(strcmp(klass, "4.2.3/GPU/OPTIX/NVIDIA RTX 4090+AMD?? W7900") == 0, "the class names the models: %s",
                  klass);
    ts_node_gpus_free(&out);

    /* none lent: no free memory to hold a job to, the class unchanged */
    h.n_gpus = 2;
    g[0].enabled = false;
    snprintf(klass, sizeof klass, "4.2.3/GPU");
    TS_TEST_REQUIRE(ts_node_gpus(&h, &out, klass, sizeof klass) == 0);
    TS_TEST_CHECK(out.lent == 0 && out.vram_free == 0 && strcmp(klass, "4.2.3/GPU") == 0, "none lent: %d %s", out.lent,
                  klass);
    ts_node_gpus_free(&out);
    if (verbose)
        printf("  node_gpus: 3 GPUs, 2 lent, names cleaned\n");
out:
    json_decref(arr);
    return failures ? -1 : 0;
}
