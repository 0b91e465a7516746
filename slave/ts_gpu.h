/* ts_gpu: the machine's GPUs through the Vulkan loader, the owner's choice of them, and their Cycles devices. */
#ifndef TS_GPU_H
#define TS_GPU_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define TS_GPU_MAX 16

typedef struct {
    int index;               /* the loader's order: what --gpus indexes name */
    char name[256];
    char vendor[32];         /* NVIDIA, AMD, Intel, Mesa, ... or the PCI vendor id in hex */
    char type[16];           /* discrete, integrated, virtual, cpu, other */
    char driver[256];        /* driver name (VK_KHR_driver_properties), else the vendor's */
    char driver_version[256];/* the driver's own version text, else the decoded number */
    int64_t memory_mb;       /* device-local heaps */
    int64_t free_mb;         /* what VK_EXT_memory_budget says is free now; memory_mb without it */
    char uuid[40];           /* deviceUUID, 8-4-4-4-12 hex: a CUDA device's UUID too */
    char pci[16];            /* "0000:01:00.0" (VK_EXT_pci_bus_info), "" when unknown */
    bool enabled;            /* the owner lends it and Cycles has it */
    char cycles_id[160];     /* the Cycles device it is ("" none) */
    char cycles_type[16];    /* OPTIX, CUDA, HIP, ONEAPI */
} ts_gpu_t;

/* The Vulkan physical devices, at most cap; 0 when there is no loader driver. Each starts disabled. */
int ts_gpu_list(ts_gpu_t *gpus, int cap);

/* The owner's --gpus: "all", "none", or indexes and UUIDs, comma-separated (NULL: every discrete and integrated GPU;
   never a CPU Vulkan device). Marks the chosen enabled; *named tells whether the owner named them. -1 with ts_error()
   naming an entry that is no device here. */
int ts_gpu_choose(ts_gpu_t *gpus, int n, const char *spec, bool *named);

/* Matches every enabled GPU to a Cycles device (cycles: the worker's [{"id","name","type"}]) by PCI address or UUID,
   never by order; one compute type for all (OptiX first, then CUDA, HIP, oneAPI). A GPU left without one is
   disabled; when the owner named it, that is an error naming it. *type gets the compute type ("" for none). */
int ts_gpu_match_cycles(ts_gpu_t *gpus, int n, const json_t *cycles, bool named, char *type, size_t type_cap);

/* The device nodes the lent GPUs need inside the renderer's box (NVIDIA's control nodes and cards, the DRM render
   nodes, AMD's kfd), at most cap; their count. */
int ts_gpu_device_nodes(const ts_gpu_t *gpus, int n, char paths[][64], int cap);
/* "CUDA_VISIBLE_DEVICES=GPU-<uuid>,..." naming the lent NVIDIA GPUs, so CUDA and OptiX show the renderer no other
   (empty when no NVIDIA GPU is on the machine). */
void ts_gpu_cuda_visible(const ts_gpu_t *gpus, int n, char *out, size_t cap);

/* [{"index","name","vendor","type","driver","driver_version","memory_mb","free_mb","uuid","pci","enabled"}]. */
json_t *ts_gpu_json(const ts_gpu_t *gpus, int n);

int ts_gpu_test(bool verbose);

#endif
