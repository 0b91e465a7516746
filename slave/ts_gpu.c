/* ts_gpu: the machine's GPUs through the Vulkan loader, the owner's choice of them, and their Cycles devices.
   DESIGN: the inventory is the Vulkan loader's (libvulkan, every vendor's driver behind one API): name, vendor, type,
   driver, device-local memory and, with VK_EXT_memory_budget, what is free of it, the device UUID (the same bytes
   CUDA reports) and, with VK_EXT_pci_bus_info, the PCI address. Cycles names CUDA, OptiX and HIP devices by PCI
   address ("CUDA_<name>_0000:01:00"), so a chosen GPU is matched to its Cycles device by address or UUID, never by
   enumeration order, which differs between the two APIs. A CPU Vulkan device (lavapipe) is listed, never lent. */
#include "slave/ts_gpu.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <vulkan/vulkan.h>

#define EXT_MAX 512

static const struct {
    uint32_t id;
    const char *name;
} VENDORS[] = {{0x10DE, "NVIDIA"}, {0x1002, "AMD"},      {0x8086, "Intel"},    {0x10005, "Mesa"},
               {0x13B5, "ARM"},    {0x5143, "Qualcomm"}, {0x106B, "Apple"},    {0x1AE0, "Google"}};

/* Cycles' GPU compute types, the preferred first (OptiX and CUDA name the same NVIDIA GPUs). */
static const char *const CYCLES_TYPES[] = {"OPTIX", "CUDA", "HIP", "ONEAPI", NULL};

static const char *type_name(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

static bool has_ext(const VkExtensionProperties *exts, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(exts[i].extensionName, name) == 0)
            return true;
    return false;
}

/* One physical device's facts into g. */
static void describe(VkPhysicalDevice d, int index, ts_gpu_t *g)
{
    memset(g, 0, sizeof *g);
    g->index = index;
    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(d, &base);
    snprintf(g->name, sizeof g->name, "%s", base.deviceName);
    snprintf(g->type, sizeof g->type, "%s", type_name(base.deviceType));
    snprintf(g->vendor, sizeof g->vendor, "0x%04x", base.vendorID);
    for (size_t i = 0; i < sizeof VENDORS / sizeof VENDORS[0]; i++)
        if (VENDORS[i].id == base.vendorID)
            snprintf(g->vendor, sizeof g->vendor, "%s", VENDORS[i].name);
    uint32_t v = base.driverVersion;
    if (base.vendorID == 0x10DE) /* NVIDIA packs 10.8.8.6 bits */
        snprintf(g->driver_version, sizeof g->driver_version, "%u.%u.%u", v >> 22, (v >> 14) & 0xff, (v >> 6) & 0xff);
    else
        snprintf(g->driver_version, sizeof g->driver_version, "%u.%u.%u", VK_API_VERSION_MAJOR(v),
                 VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
    snprintf(g->driver, sizeof g->driver, "%s", g->vendor);

    static VkExtensionProperties exts[EXT_MAX];
    uint32_t next = EXT_MAX;
    if (vkEnumerateDeviceExtensionProperties(d, NULL, &next, exts) < 0)
        next = 0;
    bool props2 = base.apiVersion >= VK_API_VERSION_1_1;
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDevicePCIBusInfoPropertiesEXT pci = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &id};
    void **tail = &id.pNext;
    bool has_drv = has_ext(exts, next, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME) || base.apiVersion >= VK_API_VERSION_1_2;
    bool has_pci = has_ext(exts, next, VK_EXT_PCI_BUS_INFO_EXTENSION_NAME);
    if (has_drv) {
        *tail = &drv;
        tail = &drv.pNext;
    }
    if (has_pci)
        *tail = &pci;
    if (props2) {
        vkGetPhysicalDeviceProperties2(d, &p2);
        const uint8_t *u = id.deviceUUID;
        snprintf(g->uuid, sizeof g->uuid,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
                 u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
        if (has_drv && drv.driverName[0]) {
            snprintf(g->driver, sizeof g->driver, "%s", drv.driverName);
            if (drv.driverInfo[0])
                snprintf(g->driver_version, sizeof g->driver_version, "%s", drv.driverInfo);
        }
        if (has_pci)
            snprintf(g->pci, sizeof g->pci, "%04x:%02x:%02x.%x", pci.pciDomain & 0xffff, pci.pciBus & 0xff,
                     pci.pciDevice & 0x1f, pci.pciFunction & 0x7);
    }
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    bool has_budget = props2 && has_ext(exts, next, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    VkPhysicalDeviceMemoryProperties2 m2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                            .pNext = has_budget ? &budget : NULL};
    if (props2)
        vkGetPhysicalDeviceMemoryProperties2(d, &m2);
    else
        vkGetPhysicalDeviceMemoryProperties(d, &m2.memoryProperties);
    uint64_t total = 0, free_bytes = 0;
    for (uint32_t i = 0; i < m2.memoryProperties.memoryHeapCount; i++) {
        if (!(m2.memoryProperties.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT))
            continue;
        total += m2.memoryProperties.memoryHeaps[i].size;
        if (has_budget && budget.heapBudget[i] > budget.heapUsage[i])
            free_bytes += budget.heapBudget[i] - budget.heapUsage[i];
    }
    g->memory_mb = (int64_t)(total >> 20);
    g->free_mb = has_budget ? (int64_t)(free_bytes >> 20) : g->memory_mb;
}

int ts_gpu_list(ts_gpu_t *gpus, int cap)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "tessera-slave",
                             .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkInstance inst;
    if (vkCreateInstance(&ci, NULL, &inst) != VK_SUCCESS)
        return 0; /* no driver for the loader: no GPUs to lend */
    VkPhysicalDevice devs[TS_GPU_MAX];
    uint32_t n = cap < TS_GPU_MAX ? (uint32_t)cap : TS_GPU_MAX;
    if (vkEnumeratePhysicalDevices(inst, &n, devs) < 0)
        n = 0;
    for (uint32_t i = 0; i < n; i++)
        describe(devs[i], (int)i, &gpus[i]);
    vkDestroyInstance(inst, NULL);
    return (int)n;
}

/* The device an entry of --gpus names: an index, a UUID (dashes optional, any case) or a PCI address. */
static int find(const ts_gpu_t *gpus, int n, const char *entry)
{
    char *end;
    long idx = strtol(entry, &end, 10);
    if (end != entry && *end == '\0')
        return idx >= 0 && idx < n ? (int)idx : -1;
    for (int i = 0; i < n; i++) {
        const char *a = gpus[i].uuid, *b = entry;
        while (*a && *b) {
            if (*a == '-' && *b != '-') {
                a++;
                continue;
            }
            if (*b == '-' && *a != '-') {
                b++;
                continue;
            }
            if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
                break;
            a++, b++;
        }
        if ((!*a && !*b && gpus[i].uuid[0]) || (gpus[i].pci[0] && strcasecmp(gpus[i].pci, entry) == 0))
            return i;
    }
    return -1;
}

static void list_devices(const ts_gpu_t *gpus, int n, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%d %s (%s, %s)", i ? "; " : "", i, gpus[i].name,
                                 gpus[i].type, gpus[i].uuid);
    if (n == 0)
        snprintf(out, cap, "none");
}

int ts_gpu_choose(ts_gpu_t *gpus, int n, const char *spec, bool *named)
{
    *named = false;
    for (int i = 0; i < n; i++)
        gpus[i].enabled = !spec || strcmp(spec, "all") == 0
                              ? strcmp(gpus[i].type, "cpu") != 0 && (spec || strcmp(gpus[i].type, "virtual") != 0)
                              : false;
    if (!spec || strcmp(spec, "all") == 0 || strcmp(spec, "none") == 0)
        return 0;
    *named = true;
    char copy[1024], have[2048];
    snprintf(copy, sizeof copy, "%s", spec);
    char *save = NULL;
    int chosen = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        int i = find(gpus, n, tok);
        if (i < 0) {
            list_devices(gpus, n, have, sizeof have);
            return ts_error_set("--gpus: no device '%s' on this machine (its Vulkan devices: %s)", tok, have);
        }
        gpus[i].enabled = true;
        chosen++;
    }
    return chosen ? 0 : ts_error_set("--gpus: '%s' names no device (all, none, or indexes and UUIDs)", spec);
}

/* Whether the Cycles device cy is GPU g: its id holds g's PCI address as Cycles prints it (domain:bus:device) or
   its UUID. */
static bool same_device(const ts_gpu_t *g, const char *cy_id)
{
    if (g->pci[0]) {
        char addr[16];
        snprintf(addr, sizeof addr, "%.10s", g->pci); /* "0000:01:00" */
        if (strcasestr(cy_id, addr))
            return true;
    }
    return g->uuid[0] && strcasestr(cy_id, g->uuid);
}

static const json_t *cycles_match(const ts_gpu_t *g, const json_t *cycles, const char *type)
{
    size_t i;
    const json_t *d;
    json_array_foreach(cycles, i, d) {
        const char *id = json_string_value(json_object_get(d, "id"));
        const char *t = json_string_value(json_object_get(d, "type"));
        if (id && t && strcmp(t, type) == 0 && same_device(g, id))
            return d;
    }
    return NULL;
}

int ts_gpu_match_cycles(ts_gpu_t *gpus, int n, const json_t *cycles, bool named, char *type, size_t type_cap)
{
    int best = -1, best_count = 0;
    for (int t = 0; CYCLES_TYPES[t]; t++) {
        int count = 0;
        for (int i = 0; i < n; i++)
            count += gpus[i].enabled && cycles_match(&gpus[i], cycles, CYCLES_TYPES[t]) != NULL;
        if (count > best_count)
            best = t, best_count = count;
    }
    snprintf(type, type_cap, "%s", best >= 0 ? CYCLES_TYPES[best] : "");
    int rc = 0;
    for (int i = 0; i < n; i++) {
        gpus[i].cycles_id[0] = gpus[i].cycles_type[0] = '\0';
        if (!gpus[i].enabled)
            continue;
        const json_t *d = best >= 0 ? cycles_match(&gpus[i], cycles, CYCLES_TYPES[best]) : NULL;
        if (d) {
            snprintf(gpus[i].cycles_id, sizeof gpus[i].cycles_id, "%s", json_string_value(json_object_get(d, "id")));
            snprintf(gpus[i].cycles_type, sizeof gpus[i].cycles_type, "%s", CYCLES_TYPES[best]);
            continue;
        }
        gpus[i].enabled = false;
        if (named && rc == 0)
            rc = ts_error_set("--gpus: device %d (%s, %s%s, uuid %s) has no Cycles device%s%s: no GPU work is started on "
                              "it", gpus[i].index, gpus[i].name, gpus[i].type,
                              strcmp(gpus[i].type, "cpu") == 0 ? ": a CPU Vulkan device" : "", gpus[i].uuid,
                              best >= 0 ? " of type " : "", best >= 0 ? CYCLES_TYPES[best] : "");
    }
    return rc;
}

json_t *ts_gpu_json(const ts_gpu_t *gpus, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:b}", "index", gpus[i].index, "name",
                         gpus[i].name, "vendor", gpus[i].vendor, "type", gpus[i].type, "driver", gpus[i].driver,
                         "driver_version", gpus[i].driver_version, "memory_mb", (json_int_t)gpus[i].memory_mb,
                         "free_mb", (json_int_t)gpus[i].free_mb, "uuid", gpus[i].uuid, "pci", gpus[i].pci, "enabled",
                         gpus[i].enabled));
    return a;
}

static bool lends_vendor(const ts_gpu_t *gpus, int n, const char *vendor, bool *present)
{
    bool lent = false;
    for (int i = 0; i < n; i++)
        if (strcmp(gpus[i].vendor, vendor) == 0) {
            *present = true;
            lent = lent || gpus[i].enabled;
        }
    return lent;
}

int ts_gpu_device_nodes(const ts_gpu_t *gpus, int n, char paths[][64], int cap)
{
    bool present = false;
    int count = 0;
    const char *patterns[4] = {NULL};
    int np = 0;
    if (lends_vendor(gpus, n, "NVIDIA", &present))
        patterns[np++] = "/dev/nvidia*"; /* the control nodes and every card: CUDA_VISIBLE_DEVICES picks */
    bool any = false;
    for (int i = 0; i < n; i++)
        any = any || (gpus[i].enabled && strcmp(gpus[i].vendor, "NVIDIA") != 0);
    if (any) {
        patterns[np++] = "/dev/dri/renderD*";
        patterns[np++] = "/dev/kfd";
    }
    for (int p = 0; p < np; p++) {
        glob_t gl;
        if (glob(patterns[p], 0, NULL, &gl) != 0)
            continue;
        for (size_t i = 0; i < gl.gl_pathc && count < cap; i++)
            if (strlen(gl.gl_pathv[i]) < 64)
                snprintf(paths[count++], 64, "%s", gl.gl_pathv[i]);
        globfree(&gl);
    }
    return count;
}

void ts_gpu_cuda_visible(const ts_gpu_t *gpus, int n, char *out, size_t cap)
{
    bool present = false;
    lends_vendor(gpus, n, "NVIDIA", &present);
    out[0] = '\0';
    if (!present)
        return;
    size_t used = (size_t)snprintf(out, cap, "CUDA_VISIBLE_DEVICES=");
    bool first = true;
    for (int i = 0; i < n && used < cap; i++)
        if (gpus[i].enabled && strcmp(gpus[i].vendor, "NVIDIA") == 0) {
            used += (size_t)snprintf(out + used, cap - used, "%sGPU-%s", first ? "" : ",", gpus[i].uuid);
            first = false;
        }
}

/* ---- self-test */

static ts_gpu_t fake(int index, const char *name, const char *type, const char *uuid, const char *pci)
{
    ts_gpu_t g = {.index = index, .memory_mb = 8192, .free_mb = 8000};
    snprintf(g.name, sizeof g.name, "%s", name);
    snprintf(g.type, sizeof g.type, "%s", type);
    snprintf(g.uuid, sizeof g.uuid, "%s", uuid);
    snprintf(g.pci, sizeof g.pci, "%s", pci);
    return g;
}

int ts_gpu_test(bool verbose)
{
    int failures = 0;
    bool named = false;
    char type[16];
    /* Cycles lists the two NVIDIA GPUs in the other order than Vulkan: the match goes by PCI address */
    ts_gpu_t g[3] = {fake(0, "GPU A", "discrete", "aaaaaaaa-0000-0000-0000-000000000001", "0000:01:00.0"),
                     fake(1, "GPU B", "discrete", "bbbbbbbb-0000-0000-0000-000000000002", "0000:41:00.0"),
                     fake(2, "llvmpipe", "cpu", "6c6c766d-7069-7065-5555-494400000000", "")};
    json_t *cycles = json_loads("[{\"id\":\"CUDA_GPU B_0000:41:00\",\"type\":\"CUDA\"},"
                                "{\"id\":\"CUDA_GPU A_0000:01:00\",\"type\":\"CUDA\"},"
                                "{\"id\":\"OPTIX_GPU B_0000:41:00\",\"type\":\"OPTIX\"},"
                                "{\"id\":\"OPTIX_GPU A_0000:01:00\",\"type\":\"OPTIX\"}]",
                                0, NULL);
    TS_TEST_CHECK(ts_gpu_choose(g, 3, NULL, &named) == 0 && g[0].enabled && g[1].enabled && !g[2].enabled && !named,
                  "by default every discrete GPU, never the CPU device");
    TS_TEST_CHECK(ts_gpu_match_cycles(g, 3, cycles, named, type, sizeof type) == 0 && strcmp(type, "OPTIX") == 0,
                  "OptiX is preferred: %s", type);
    TS_TEST_CHECK(strcmp(g[0].cycles_id, "OPTIX_GPU A_0000:01:00") == 0 &&
                      strcmp(g[1].cycles_id, "OPTIX_GPU B_0000:41:00") == 0,
                  "matched by PCI address, not order: %s, %s", g[0].cycles_id, g[1].cycles_id);
    TS_TEST_CHECK(ts_gpu_choose(g, 3, "BBBBBBBB000000000000000000000002", &named) == 0 && !g[0].enabled &&
                      g[1].enabled && named,
                  "a UUID in any case, without dashes, chooses one: %s", ts_error());
    TS_TEST_CHECK(ts_gpu_choose(g, 3, "none", &named) == 0 && !g[0].enabled && !g[1].enabled, "none lends none");
    TS_TEST_CHECK(ts_gpu_choose(g, 3, "0,7", &named) < 0 && strstr(ts_error(), "'7'") && strstr(ts_error(), "GPU B"),
                  "a device that is not here is named, with those that are: %s", ts_error());
    TS_TEST_CHECK(ts_gpu_choose(g, 3, "2", &named) == 0 && g[2].enabled, "the CPU device can be named: %s", ts_error());
    TS_TEST_CHECK(ts_gpu_match_cycles(g, 3, cycles, named, type, sizeof type) < 0 &&
                      strstr(ts_error(), "has no Cycles device") && strstr(ts_error(), "llvmpipe") && !g[2].enabled,
                  "but has no Cycles device, which refuses GPU work: %s", ts_error());
    g[1] = fake(1, "GPU B", "discrete", "bbbbbbbb-0000-0000-0000-000000000002", "0000:42:00.0");
    TS_TEST_CHECK(ts_gpu_choose(g, 3, NULL, &named) == 0 &&
                      ts_gpu_match_cycles(g, 3, cycles, named, type, sizeof type) == 0 && g[0].enabled && !g[1].enabled,
                  "by default a GPU without a Cycles device is left out");
    json_decref(cycles);
    char cuda[256];
    snprintf(g[0].vendor, sizeof g[0].vendor, "NVIDIA");
    snprintf(g[1].vendor, sizeof g[1].vendor, "NVIDIA");
    g[0].enabled = false, g[1].enabled = true;
    ts_gpu_cuda_visible(g, 3, cuda, sizeof cuda);
    TS_TEST_CHECK(strcmp(cuda, "CUDA_VISIBLE_DEVICES=GPU-bbbbbbbb-0000-0000-0000-000000000002") == 0,
                  "CUDA sees the lent GPU alone: %s", cuda);
    g[1].enabled = false;
    ts_gpu_cuda_visible(g, 3, cuda, sizeof cuda);
    TS_TEST_CHECK(strcmp(cuda, "CUDA_VISIBLE_DEVICES=") == 0, "and none when none is lent: %s", cuda);

    /* the machine's own devices, through the loader (lavapipe where mesa-vulkan-drivers is installed) */
    ts_gpu_t mine[TS_GPU_MAX];
    int n = ts_gpu_list(mine, TS_GPU_MAX);
    FILE *icd = fopen("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json", "r");
    bool lavapipe = false;
    for (int i = 0; i < n; i++) {
        if (verbose)
            printf("  %d: %s (%s, %s %s, %lld MB, uuid %s, pci %s)\n", i, mine[i].name, mine[i].type, mine[i].driver,
                   mine[i].driver_version, (long long)mine[i].memory_mb, mine[i].uuid, mine[i].pci);
        lavapipe = lavapipe || (strcmp(mine[i].type, "cpu") == 0 && strstr(mine[i].name, "llvmpipe") &&
                                strlen(mine[i].uuid) == 36 && mine[i].memory_mb > 0);
    }
    if (icd) {
        fclose(icd);
        TS_TEST_CHECK(lavapipe, "lavapipe is listed as a cpu device with a UUID and memory (%d devices)", n);
    }
    json_t *j = ts_gpu_json(mine, n);
    TS_TEST_CHECK(json_array_size(j) == (size_t)n, "every device in the JSON");
    json_decref(j);
    return failures;
}
