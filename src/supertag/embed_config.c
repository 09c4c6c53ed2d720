/*
 * embed_config.c - `supertag embed config`: show or change the embedding
 * model and endpoint in config.json, as the original does (12.1):
 *
 *   embed config [-s|--show] [--json | --pretty]
 *   embed config [-m|--model M] [-e|--endpoint URL]
 *
 * The effective settings are the defaults {bge-m3, http://localhost:11434}
 * overlaid with config "embeddings". Writing keeps every other key of
 * config.json in place (st_config). Unlike the original, any model name
 * works: its dimension is learnt from the server when embedding (15.3).
 */
#include "cli.h"
#include "embed_cmds.h"
#include "st_error.h"
#include "workspace.h"

#include <resona/embed.h>

#include <stdio.h>
#include <string.h>

#define DEFAULT_MODEL "bge-m3"
#define DEFAULT_ENDPOINT "http://localhost:11434"

static void usage(FILE *out)
{
    fprintf(out, "usage: supertag embed config [-s|--show] [--json | --pretty]\n"
                 "       supertag embed config [-m|--model MODEL] [-e|--endpoint URL]\n\n"
                 "Show or set the embedding model and Ollama endpoint (config.json).\n");
}

static void json_str(const char *s)
{
    putchar('"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            putchar('\\');
        putchar(*p);
    }
    putchar('"');
}

int cmd_embed_config(int argc, char **argv)
{
    const char *model_arg = NULL, *endpoint_arg = NULL;
    int json = 0, pretty = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "-e") ||
                    !strcmp(a, "--endpoint");
        if (takes && i + 1 >= argc) {
            cli_error("option '%s' needs a value", a);
            return EXIT_USAGE;
        }
        if (!strcmp(a, "-m") || !strcmp(a, "--model"))
            model_arg = argv[++i];
        else if (!strcmp(a, "-e") || !strcmp(a, "--endpoint"))
            endpoint_arg = argv[++i];
        else if (!strcmp(a, "-s") || !strcmp(a, "--show"))
            ;
        else if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--pretty"))
            pretty = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else {
            cli_error("unknown option '%s' (see 'supertag embed config --help')", a);
            return EXIT_USAGE;
        }
    }
    if ((model_arg && !*model_arg) || (endpoint_arg && !*endpoint_arg)) {
        cli_error("--model and --endpoint need a non-empty value");
        return EXIT_USAGE;
    }
    st_paths paths;
    memset(&paths, 0, sizeof(paths));
    st_config *cfg = NULL;
    int rc = EXIT_OK;
    if (st_paths_get(&paths) < 0 || st_config_load(paths.config_file, &cfg) < 0) {
        cli_error("%s", st_error_message());
        rc = EXIT_RUNTIME;
        goto done;
    }
    const char *model_keys[] = {"embeddings", "model", NULL};
    const char *endpoint_keys[] = {"embeddings", "endpoint", NULL};
    if (model_arg || endpoint_arg) {
        if (model_arg) {
            uint32_t d = resona_embed_known_dim(model_arg);
            if (d == 0)
                printf("⚠️  Warning: Model \"%s\" is not a known model.\n"
                       "   Dimensions will be auto-detected when generating embeddings.\n\n",
                       model_arg);
            else
                printf("✓ Model: %s (%u dimensions)\n", model_arg, (unsigned)d);
            if (st_config_set_string(cfg, model_keys, model_arg) < 0)
                goto fail;
        }
        if (endpoint_arg) {
            printf("✓ Endpoint: %s\n", endpoint_arg);
            if (st_config_set_string(cfg, endpoint_keys, endpoint_arg) < 0)
                goto fail;
        }
        if (st_config_save(cfg, paths.config_file) < 0)
            goto fail;
        const char *m = st_config_get_string(cfg, model_keys);
        const char *e = st_config_get_string(cfg, endpoint_keys);
        m = m ? m : DEFAULT_MODEL;
        e = e ? e : DEFAULT_ENDPOINT;
        uint32_t d = resona_embed_known_dim(m);
        char dims[16];
        if (d)
            snprintf(dims, sizeof(dims), "%u", (unsigned)d);
        else
            snprintf(dims, sizeof(dims), "unknown");
        printf("\n✅ Configuration updated\n\n"
               "🔍 Embedding Configuration\n\n"
               "Model:       %s\n"
               "Dimensions:  %s\n"
               "Endpoint:    %s\n\n"
               "Provider:    Ollama (via resona/LanceDB)\n",
               m, dims, e);
        goto done;
    }
    const char *m = st_config_get_string(cfg, model_keys);
    const char *e = st_config_get_string(cfg, endpoint_keys);
    m = m ? m : DEFAULT_MODEL;
    e = e ? e : DEFAULT_ENDPOINT;
    uint32_t d = resona_embed_known_dim(m);
    if (json) {
        printf("{\n  \"model\": ");
        json_str(m);
        printf(",\n  \"endpoint\": ");
        json_str(e);
        printf("\n}\n");
    } else if (pretty) {
        char dims[16];
        if (d)
            snprintf(dims, sizeof(dims), "%u", (unsigned)d);
        else
            snprintf(dims, sizeof(dims), "auto-detect");
        printf("\n🧠 Embedding Configuration:\n\n"
               "   Model: %s\n"
               "   Dimensions: %s\n"
               "   Endpoint: %s\n"
               "   Storage: LanceDB (via resona)\n\n",
               m, dims, e);
    } else {
        if (d)
            printf("model\t%s\ndimensions\t%u\nendpoint\t%s\n", m, (unsigned)d, e);
        else
            printf("model\t%s\ndimensions\tauto\nendpoint\t%s\n", m, e);
    }
    goto done;
fail:
    cli_error("%s", st_error_message());
    rc = EXIT_RUNTIME;
done:
    st_config_free(cfg);
    st_paths_free(&paths);
    return rc;
}
