/*
 * fake-ollama/main.c - command line, loopback listen socket, then serve.
 *
 *   fake-ollama [--host 127.0.0.1] [--port N|0] [--dim 1024] [--model bge-m3]... [faults]
 *
 * Prints exactly one line "listening 127.0.0.1:<port>" on stdout when ready
 * and exits 0 on SIGTERM/SIGINT. Usage errors exit 2. See README.md.
 */
#include "fo_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: fake-ollama [options]\n"
    "A fake Ollama server for tests: deterministic vectors, one request at a time,\n"
    "simulated latency and injected faults. Binds loopback only.\n"
    "\n"
    "  --host ADDR            IPv4 loopback address to bind (default 127.0.0.1; 'localhost' ok)\n"
    "  --port N               port, 0 = pick a free one (default 0)\n"
    "  --dim D                vector dimension (default 1024)\n"
    "  --model NAME           installed model, repeatable (default bge-m3); ':latest' added\n"
    "                         when NAME has no tag\n"
    "  --latency-ms A         model time per request (default 0)\n"
    "  --per-input-ms B       model time per input (default 0); the lock is held A + B*inputs\n"
    "  --seed S               seed for --fail-rate (default 1)\n"
    "  --fail-nth N:STATUS    the N-th embedding request (1-based) answers STATUS; repeatable\n"
    "  --fail-rate P:STATUS   each embedding request answers STATUS with probability P\n"
    "  --burst-503 START:COUNT  requests START..START+COUNT-1 answer 503 server busy\n"
    "  --delay-nth N:MS       request N sleeps MS (holding the model) before its answer\n"
    "  --truncate-nth N       request N: send half of the body, then drop the connection\n"
    "  --malformed-nth N      request N: 200 with a body that is not JSON\n"
    "  --wrong-dim-nth N      request N: every vector has one value too few\n"
    "  --wrong-count-nth N    request N: one vector fewer than inputs\n"
    "  --nan-nth N            request N: the first value of the first vector is NaN\n"
    "  --nan-literal NaN|null how --nan-nth writes it (default NaN, not valid JSON)\n"
    "  --max-input-chars C    inputs longer than C characters: cut (truncate on) or 400\n"
    "  --ignore-truncate      too-long inputs fail even with truncate on (ollama#14186)\n"
    "  --no-embed-endpoint    404 on /api/embed (an Ollama older than 0.3)\n"
    "  --api-key KEY          require 'Authorization: Bearer KEY' (401 otherwise)\n"
    "  --log FILE             append one JSON line per request\n"
    "  --log-no-texts         leave the texts out of the log\n"
    "  --max-body-bytes N     larger request bodies get 413 (default 64 MiB)\n"
    "  --vector-cache-mb M    keep the encoded vectors of recent texts, up to M MiB\n"
    "                         (default 64; 0 = compute every vector)\n"
    "  --help                 this text\n";

static int usage_error(const char *what, const char *value)
{
    fprintf(stderr, "fake-ollama: %s: '%s' (see --help)\n", what, value ? value : "");
    return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* "A:B" with both unsigned integers. */
static int parse_pair(const char *s, uint64_t *a, uint64_t *b)
{
    const char *colon = strchr(s, ':');
    char head[32];
    if (!colon || (size_t)(colon - s) >= sizeof head)
        return -1;
    memcpy(head, s, (size_t)(colon - s));
    head[colon - s] = '\0';
    return parse_u64(head, a) == 0 && parse_u64(colon + 1, b) == 0 ? 0 : -1;
}

static int rules_add(fo_rules *r, uint64_t n, long value)
{
    fo_rule *v = realloc(r->v, (r->count + 1) * sizeof *v);
    if (!v)
        return -1;
    r->v = v;
    r->v[r->count].n = n;
    r->v[r->count].value = value;
    r->count++;
    return 0;
}

const fo_rule *fo_rules_find(const fo_rules *r, uint64_t n)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->v[i].n == n)
            return &r->v[i];
    return NULL;
}

static int add_model(fo_config *cfg, const char *name)
{
    const char *slash = strrchr(name, '/');
    int tagged = strchr(slash ? slash : name, ':') != NULL;
    size_t len = strlen(name);
    char *m = malloc(len + sizeof ":latest");
    char **models = realloc(cfg->models, (cfg->model_count + 1) * sizeof *models);
    if (!m || !models) {
        free(m);
        free(models);
        return -1;
    }
    memcpy(m, name, len + 1);
    if (!tagged)
        memcpy(m + len, ":latest", sizeof ":latest");
    cfg->models = models;
    cfg->models[cfg->model_count++] = m;
    return 0;
}

static int valid_status(uint64_t st)
{
    return st >= 100 && st <= 599;
}

enum {
    O_HOST = 256,
    O_PORT,
    O_DIM,
    O_MODEL,
    O_LAT,
    O_PER,
    O_SEED,
    O_FAILNTH,
    O_FAILRATE,
    O_BURST,
    O_DELAY,
    O_TRUNC,
    O_MALF,
    O_WDIM,
    O_WCOUNT,
    O_NAN,
    O_NANLIT,
    O_MAXCH,
    O_IGNTRUNC,
    O_NOEMBED,
    O_KEY,
    O_LOG,
    O_LOGNOTEXT,
    O_MAXBODY,
    O_CACHE,
    O_HELP
};

static const struct option LONGOPTS[] = {
    {"host", required_argument, NULL, O_HOST},
    {"port", required_argument, NULL, O_PORT},
    {"dim", required_argument, NULL, O_DIM},
    {"model", required_argument, NULL, O_MODEL},
    {"latency-ms", required_argument, NULL, O_LAT},
    {"per-input-ms", required_argument, NULL, O_PER},
    {"seed", required_argument, NULL, O_SEED},
    {"fail-nth", required_argument, NULL, O_FAILNTH},
    {"fail-rate", required_argument, NULL, O_FAILRATE},
    {"burst-503", required_argument, NULL, O_BURST},
    {"delay-nth", required_argument, NULL, O_DELAY},
    {"truncate-nth", required_argument, NULL, O_TRUNC},
    {"malformed-nth", required_argument, NULL, O_MALF},
    {"wrong-dim-nth", required_argument, NULL, O_WDIM},
    {"wrong-count-nth", required_argument, NULL, O_WCOUNT},
    {"nan-nth", required_argument, NULL, O_NAN},
    {"nan-literal", required_argument, NULL, O_NANLIT},
    {"max-input-chars", required_argument, NULL, O_MAXCH},
    {"ignore-truncate", no_argument, NULL, O_IGNTRUNC},
    {"no-embed-endpoint", no_argument, NULL, O_NOEMBED},
    {"api-key", required_argument, NULL, O_KEY},
    {"log", required_argument, NULL, O_LOG},
    {"log-no-texts", no_argument, NULL, O_LOGNOTEXT},
    {"max-body-bytes", required_argument, NULL, O_MAXBODY},
    {"vector-cache-mb", required_argument, NULL, O_CACHE},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

/* Parse argv into cfg. Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, fo_config *cfg)
{
    int c;
    uint64_t a, b;
    fo_rules *nrules;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", LONGOPTS, NULL)) != -1) {
        const char *arg = optarg;
        switch (c) {
        case O_HOST:
            if (strlen(arg) >= sizeof cfg->host)
                return usage_error("bad --host", arg);
            memcpy(cfg->host, arg, strlen(arg) + 1);
            break;
        case O_PORT:
            if (parse_u64(arg, &a) != 0 || a > 65535)
                return usage_error("bad --port", arg);
            cfg->port = (uint16_t)a;
            break;
        case O_DIM:
            if (parse_u64(arg, &a) != 0 || a == 0 || a > 65536)
                return usage_error("bad --dim (1..65536)", arg);
            cfg->dim = (uint32_t)a;
            break;
        case O_MODEL:
            if (!*arg || add_model(cfg, arg) != 0)
                return usage_error("bad --model", arg);
            break;
        case O_LAT:
        case O_PER:
            if (parse_u64(arg, &a) != 0 || a > 3600000)
                return usage_error("bad latency", arg);
            if (c == O_LAT)
                cfg->latency_ms = (uint32_t)a;
            else
                cfg->per_input_ms = (uint32_t)a;
            break;
        case O_SEED:
            if (parse_u64(arg, &cfg->seed) != 0)
                return usage_error("bad --seed", arg);
            break;
        case O_FAILNTH:
            if (parse_pair(arg, &a, &b) != 0 || a == 0 || !valid_status(b) ||
                rules_add(&cfg->fail_nth, a, (long)b) != 0)
                return usage_error("bad --fail-nth (N:STATUS)", arg);
            break;
        case O_FAILRATE: {
            const char *colon = strchr(arg, ':');
            char *end = NULL;
            double p = strtod(arg, &end);
            if (!colon || end != colon || !(p >= 0.0 && p <= 1.0) ||
                parse_u64(colon + 1, &b) != 0 || !valid_status(b))
                return usage_error("bad --fail-rate (P:STATUS, 0<=P<=1)", arg);
            cfg->fail_rate = p;
            cfg->fail_rate_status = (int)b;
            break;
        }
        case O_BURST:
            if (parse_pair(arg, &a, &b) != 0 || a == 0)
                return usage_error("bad --burst-503 (START:COUNT)", arg);
            cfg->burst_start = a;
            cfg->burst_count = b;
            break;
        case O_DELAY:
            if (parse_pair(arg, &a, &b) != 0 || a == 0 || b > 3600000 ||
                rules_add(&cfg->delay_nth, a, (long)b) != 0)
                return usage_error("bad --delay-nth (N:MS)", arg);
            break;
        case O_TRUNC:
        case O_MALF:
        case O_WDIM:
        case O_WCOUNT:
        case O_NAN:
            nrules = c == O_TRUNC    ? &cfg->truncate_nth
                     : c == O_MALF   ? &cfg->malformed_nth
                     : c == O_WDIM   ? &cfg->wrong_dim_nth
                     : c == O_WCOUNT ? &cfg->wrong_count_nth
                                     : &cfg->nan_nth;
            if (parse_u64(arg, &a) != 0 || a == 0 || rules_add(nrules, a, 0) != 0)
                return usage_error("bad request number", arg);
            break;
        case O_NANLIT:
            if (strcmp(arg, "NaN") == 0)
                cfg->nan_null = 0;
            else if (strcmp(arg, "null") == 0)
                cfg->nan_null = 1;
            else
                return usage_error("bad --nan-literal (NaN or null)", arg);
            break;
        case O_MAXCH:
            if (parse_u64(arg, &a) != 0 || a > 1000000000)
                return usage_error("bad --max-input-chars", arg);
            cfg->max_input_chars = (long)a;
            break;
        case O_IGNTRUNC:
            cfg->ignore_truncate = 1;
            break;
        case O_NOEMBED:
            cfg->no_embed_endpoint = 1;
            break;
        case O_KEY:
            if (!*arg)
                return usage_error("empty --api-key", arg);
            cfg->api_key = arg;
            break;
        case O_LOG:
            cfg->log_path = arg;
            break;
        case O_LOGNOTEXT:
            cfg->log_texts = 0;
            break;
        case O_MAXBODY:
            if (parse_u64(arg, &a) != 0 || a == 0)
                return usage_error("bad --max-body-bytes", arg);
            cfg->max_body = (size_t)a;
            break;
        case O_CACHE:
            if (parse_u64(arg, &a) != 0 || a > 65536)
                return usage_error("bad --vector-cache-mb (0..65536)", arg);
            cfg->cache_bytes = (size_t)a << 20;
            break;
        case O_HELP:
            fputs(USAGE, stdout);
            return 0;
        default:
            return usage_error("unknown option", optind > 0 ? argv[optind - 1] : "");
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (cfg->model_count == 0 && add_model(cfg, "bge-m3") != 0)
        return 1;
    return -1;
}

/* A loopback IPv4 listen socket; fills *port with the bound port. */
static int listen_loopback(fo_config *cfg, uint16_t *port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(cfg->port);
    if (strcasecmp(cfg->host, "localhost") == 0)
        memcpy(cfg->host, "127.0.0.1", sizeof "127.0.0.1");
    if (inet_pton(AF_INET, cfg->host, &sa.sin_addr) != 1 ||
        (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr,
                "fake-ollama: refusing to bind '%s': only IPv4 loopback (127.0.0.0/8) is "
                "allowed\n",
                cfg->host);
        return -2;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "fake-ollama: socket: %s\n", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t sl = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 256) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        fprintf(stderr, "fake-ollama: cannot listen on %s:%u: %s\n", cfg->host, (unsigned)cfg->port,
                strerror(errno));
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static void free_config(fo_config *cfg)
{
    for (size_t i = 0; i < cfg->model_count; i++)
        free(cfg->models[i]);
    free(cfg->models);
    fo_rules *all[] = {&cfg->fail_nth,      &cfg->delay_nth,     &cfg->truncate_nth,
                       &cfg->malformed_nth, &cfg->wrong_dim_nth, &cfg->wrong_count_nth,
                       &cfg->nan_nth};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]->v);
}

int main(int argc, char **argv)
{
    fo_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.host, "127.0.0.1", sizeof "127.0.0.1");
    cfg.dim = 1024;
    cfg.seed = 1;
    cfg.max_input_chars = -1;
    cfg.log_texts = 1;
    cfg.max_body = (size_t)64 << 20;
    cfg.cache_bytes = (size_t)64 << 20;

    int rc = parse_args(argc, argv, &cfg);
    if (rc >= 0) {
        free_config(&cfg);
        return rc;
    }
    uint16_t port = 0;
    int fd = listen_loopback(&cfg, &port);
    if (fd < 0) {
        free_config(&cfg);
        return fd == -2 ? 2 : 1;
    }
    rc = fo_server_run(&cfg, fd, port);
    free_config(&cfg);
    return rc;
}
