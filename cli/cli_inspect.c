/* cli_inspect: `tessera inspect SCENE`: what the artist's Blender reads of a .blend (frames, size, samples, format)
   and every file it needs, each found or missing; --json for the artists' app. Nothing is sent to a master. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSPECT_SYNOPSIS "inspect SCENE.blend [--blender PATH] [--json]"
#define INSPECT_SUMMARY                                                                                            \
    "Runs your Blender once on the scene (its scripts never run), as `tessera submit` does to find the\n"          \
    "scene's files, and prints the scene's frame range, resolution, samples and output format, and each\n"        \
    "file it needs, marked MISSING where it is not on disk. Exit 0 even when files are missing."
#define FACT_INT_MAX 1000000000               /* a frame number, a size or a sample count read from Blender */
#define FACT_TEXT_MAX 64                      /* an engine, format or extension name */

static const char *const INT_FACTS[] = {"frame_start", "frame_end", "width", "height", "samples"};
static const char *const TEXT_FACTS[] = {"engine", "file_format", "ext"};

/* The facts, checked as outside input (Blender's script wrote them): each present with a sane type and size. */
static json_t *checked_facts(const json_t *facts)
{
    if (!facts) {
        ts_error_set("the scene's facts are missing from the list (is tessera-deps.py older than tessera?)");
        return NULL;
    }
    json_t *out = json_object();
    for (size_t i = 0; i < sizeof INT_FACTS / sizeof *INT_FACTS; i++) {
        const json_t *v = json_object_get(facts, INT_FACTS[i]);
        if (!json_is_integer(v) || json_integer_value(v) < -FACT_INT_MAX || json_integer_value(v) > FACT_INT_MAX) {
            json_decref(out);
            ts_error_set("scene fact '%s' must be a whole number within +-%d", INT_FACTS[i], FACT_INT_MAX);
            return NULL;
        }
        json_object_set_new(out, INT_FACTS[i], json_integer(json_integer_value(v)));
    }
    for (size_t i = 0; i < sizeof TEXT_FACTS / sizeof *TEXT_FACTS; i++) {
        const json_t *v = json_object_get(facts, TEXT_FACTS[i]);
        if (!json_is_string(v) || json_string_length(v) > FACT_TEXT_MAX) {
            json_decref(out);
            ts_error_set("scene fact '%s' must be a text of at most %d bytes", TEXT_FACTS[i], FACT_TEXT_MAX);
            return NULL;
        }
        json_object_set_new(out, TEXT_FACTS[i], json_string(json_string_value(v)));
    }
    return out;
}

static json_t *files_json(const cli_project_t *project, size_t *missing)
{
    size_t count = 0;
    const cli_project_ref_t *refs = cli_project_refs(project, &count);
    json_t *files = json_array();
    *missing = 0;
    for (size_t i = 0; i < count; i++) {
        *missing += !refs[i].exists;
        json_array_append_new(files, json_pack("{s:s,s:s,s:s,s:b}", "path", refs[i].path, "ref", refs[i].ref, "kind",
                                               refs[i].kind, "exists", refs[i].exists));
    }
    return files;
}

static void print_text(const char *scene, const json_t *doc)
{
    const json_t *f = json_object_get(doc, "facts");
    printf("%s (Blender %s)\n", scene, cli_json_str(doc, "blender", "?"));
    printf("frames      %ld-%ld\n", cli_json_int(f, "frame_start"), cli_json_int(f, "frame_end"));
    printf("resolution  %ld x %ld\n", cli_json_int(f, "width"), cli_json_int(f, "height"));
    printf("samples     %ld (%s)\n", cli_json_int(f, "samples"), cli_json_str(f, "engine", "?"));
    printf("output      %s (.%s)\n", cli_json_str(f, "file_format", "?"), cli_json_str(f, "ext", "?"));
    const json_t *files = json_object_get(doc, "files");
    printf("files       %zu, %ld missing\n", json_array_size(files), cli_json_int(doc, "missing"));
    size_t i;
    const json_t *e;
    json_array_foreach(files, i, e) {
        printf("  %-8s %-10s %s\n", json_is_true(json_object_get(e, "exists")) ? "ok" : "MISSING",
               cli_json_str(e, "kind", "?"), cli_json_str(e, "path", "?"));
    }
}

int cli_cmd_inspect(cli_ctx_t *ctx, int argc, char **argv)
{
    (void)ctx;
    const char *blender = NULL;
    bool json = false;
    char *pos[1];
    int npos = 0;
    ts_opt_t table[] = {
        {"blender", TS_OPT_STRING, NULL, 1, 0, &blender,
         "your Blender's path (default: $" CLI_BLENDER_ENV " or " CLI_BLENDER " on the PATH)"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print JSON: blender, scene, facts, files (path, ref, kind, exists), "
                                                "missing"},
        TS_OPT_END,
    };
    int parsed = cli_parse_opts(table, argc, argv, pos, 1, &npos, INSPECT_SYNOPSIS, INSPECT_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    if (npos != 1)
        return cli_fail(CLI_EXIT_USAGE, "inspect: name one .blend (usage: tessera %s)", INSPECT_SYNOPSIS);
    int64_t size;
    FILE *f = cli_open_input(pos[0], &size); /* named plainly (missing, unreadable) before Blender is started on it */
    if (!f)
        return -1;
    fclose(f);
    const char *exe = cli_artist_blender(blender);
    cli_project_t *project = cli_project_discover(pos[0], exe);
    if (!project)
        return -1;
    json_t *facts = checked_facts(cli_project_facts(project));
    if (!facts) {
        cli_project_destroy(&project);
        return cli_fail(CLI_EXIT_USAGE, "%s: %s", pos[0], ts_error());
    }
    size_t missing = 0;
    json_t *files = files_json(project, &missing);
    json_t *doc = json_pack("{s:s,s:s,s:o,s:o,s:I}", "blender", cli_project_blender(project), "scene", pos[0], "facts",
                            facts, "files", files, "missing", (json_int_t)missing);
    cli_project_destroy(&project);
    if (json) {
        char *text = json_dumps(doc, JSON_COMPACT);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else {
        print_text(pos[0], doc);
    }
    json_decref(doc);
    return 0;
}
