/* cmd_frames.c: `sinkscope frames OUT.h5 [options]`: labels the reference frame of every (model, encoding, prompt
 * set) of a finished results file and writes /frames into it (frames.h; method: schemas/frames.md). Thresholds:
 * the sweep's `frames:` (from the file's embedded /sweep/yaml), else the defaults; options override both.
 * Exit 0, or 2 for bad usage, a file that is not a sinkscope results file, or one without top_keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "frames.h"

static void frames_help(FILE *f)
{
    fprintf(f,
            "usage: sinkscope frames OUT.h5 [--theta-c X] [--phi X] [--theta-b X] [--theta-d X] [--skip-layers N]\n"
            "                        [--bootstrap N] [--seed N] [--quiet]\n"
            "\n"
            "Labels each (model, encoding, prompt set) of a results file, and each layer, as centralized,\n"
            "bidirectional, distributed, mixed or none, from the top keys of a top_keys analysis (alpha top keys\n"
            "for causal models, raw ones for encoders), with the evidence: per layer the class shares, the\n"
            "dominant anchor and its share, m_l, the entropy of the top-key ids and mean |R|; the margin of each\n"
            "rule to its threshold; and a bootstrap confidence. This is sinkscope's own operationalisation of\n"
            "science.md (d), not a rule from the paper: schemas/frames.md documents every rule and default.\n"
            "\n"
            "Writes /frames/<model>/<encoding>/<prompt set> into OUT.h5, replacing any earlier /frames; nothing\n"
            "else in the file changes. Prints a table per group (--quiet: none; --print: the default).\n"
            "\n"
            "Thresholds come from the sweep's 'frames:' mapping (read from the file's /sweep/yaml), else the\n"
            "defaults; each option below overrides it:\n"
            "  --theta-c X      centralized: a class's share of (head, prompt) pairs in a layer (default 0.9)\n"
            "  --phi X          fraction of layers a rule needs (default 0.9)\n"
            "  --theta-b X      bidirectional: start/end-special share (default 0.5)\n"
            "  --theta-d X      distributed: m_l below this (default 0.5)\n"
            "  --skip-layers N  first layers left out of the centralized fraction (default 2)\n"
            "  --bootstrap N    resamples of the prompts for the confidence (default 200; 0: none)\n"
            "  --seed N         the bootstrap's seed (default 0)\n"
            "\n"
            "Exit 0; 2 for bad usage, a file that is not a sinkscope results file, or one with no top_keys.\n");
}

/* Parses a number option's value and checks it against the `frames:` range of `key`. */
static int opt_num(const char *opt, const char *key, const char *val, int integer, double *out)
{
    double lo, hi;
    char *end = NULL;
    errno = 0;
    double x = val ? strtod(val, &end) : 0;
    if (!val || !*val || *end || errno) {
        fprintf(stderr, "sinkscope frames: %s needs a number, got '%s'\n", opt, val ? val : "");
        return -1;
    }
    ss_frames_param_range(key, &lo, &hi);
    if (x < lo || x > hi || (integer && x != (double)(long long)x)) {
        fprintf(stderr, "sinkscope frames: %s must be %s in [%g, %g], got %s\n", opt,
                integer ? "an integer" : "a number", lo, hi, val);
        return -1;
    }
    *out = x;
    return 0;
}

int ss_cmd_frames(int argc, char **argv)
{
    if (ss_wants_help(argc, argv)) {
        frames_help(stdout);
        return SS_EXIT_OK;
    }
    static const struct {
        const char *opt, *key;
        int integer;
    } opts[] = {{"--theta-c", "theta_c", 0},         {"--phi", "phi", 0},
                {"--theta-b", "theta_b", 0},         {"--theta-d", "theta_d", 0},
                {"--skip-layers", "skip_layers", 1}, {"--bootstrap", "bootstrap", 1},
                {"--seed", "seed", 1}};
    enum { N_OPTS = sizeof opts / sizeof opts[0] };
    double val[N_OPTS];
    int set[N_OPTS] = {0}, quiet = 0;
    const char *path = NULL;
    unsigned long long seed = 0;
    for (int i = 1; i < argc; i++) {
        int k = 0;
        while (k < N_OPTS && strcmp(argv[i], opts[k].opt) != 0) k++;
        if (k < N_OPTS) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (!strcmp(opts[k].key, "seed")) { /* the full uint64 range, not a double */
                char *end = NULL;
                errno = 0;
                seed = v && *v && *v != '-' ? strtoull(v, &end, 10) : 0;
                if (!v || !*v || *v == '-' || *end || errno) {
                    fprintf(stderr, "sinkscope frames: --seed needs an integer >= 0, got '%s'\n", v ? v : "");
                    return SS_EXIT_USAGE;
                }
                val[k] = 0;
            } else if (opt_num(opts[k].opt, opts[k].key, v, opts[k].integer, &val[k]) != 0) {
                return SS_EXIT_USAGE;
            }
            set[k] = 1;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (!strcmp(argv[i], "--print")) {
            quiet = 0;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "sinkscope frames: unexpected argument '%s' (see sinkscope frames --help)\n", argv[i]);
            return SS_EXIT_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "usage: sinkscope frames OUT.h5 [options] (see sinkscope frames --help)\n");
        return SS_EXIT_USAGE;
    }
    ss_frames_params p;
    ss_status st = ss_frames_read_params(path, &p);
    if (st == SS_OK) {
        double *dst[] = {&p.theta_c, &p.phi, &p.theta_b, &p.theta_d};
        for (int k = 0; k < 4; k++)
            if (set[k]) *dst[k] = val[k];
        if (set[4]) p.skip_layers = (int)val[4];
        if (set[5]) p.bootstrap = (int)val[5];
        if (set[6]) p.seed = seed;
        st = ss_frames_update(path, &p, quiet ? NULL : stdout);
    }
    if (st != SS_OK) {
        fprintf(stderr, "sinkscope frames: %s\n", ss_errmsg());
        return st == SS_ERR_INPUT || st == SS_ERR_FORMAT || st == SS_ERR_UNSUPPORTED || st == SS_ERR_IO
                   ? SS_EXIT_USAGE
                   : SS_EXIT_INTERNAL;
    }
    return SS_EXIT_OK;
}
