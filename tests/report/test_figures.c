/* test_figures.c: the report's figures (engine/report_figures.c), written into a temporary directory.
 *
 * Written: a 30 × 9 layer × head heatmap with NaNs, an attention map with token labels (long, non-ASCII and invalid
 * UTF-8 ones), a 300 × 300 heatmap (drawn as one scaled image), a heatmap with an automatic colour scale, a log-x line
 * chart with gaps, grouped and stacked bar charts. Checked for each: the PNG's signature and IHDR size, that cairo
 * reads the PNG back, and that the SVG is XML starting "<?xml" with an <svg> element and the (escaped) title. Pixels:
 * heatmap cells at known values have the published viridis colours (#440154, #3b528b, #21918c, #5ec962, #fde725),
 * NaN cells are light grey, line and bar charts show their Okabe–Ito colours. Errors: a directory that cannot hold
 * files gives SS_ERR_IO naming the path (for the PNG, and for the SVG alone), bad arguments give SS_ERR_INPUT;
 * degenerate input (one cell, one point, all NaN, negative stacks) is drawn.
 *
 * `test_figures DIR` writes into DIR and keeps the figures (for looking at them). */
#include "test_util.h"

#include <cairo.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_figures.h"

static char g_dir[512];
static int g_keep;

/* ------------------------------------------------------------------ file checks */

static void path_of(char *out, size_t cap, const char *name, const char *ext)
{
    snprintf(out, cap, "%s/%s.%s", g_dir, name, ext);
}

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 | p[3]; }

/* The PNG's signature and IHDR size; w or h = 0: any size within [480, 1600]. */
static void check_png(const char *name, int w, int h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    char path[1024];
    unsigned char head[24] = {0}; /* signature, IHDR length, "IHDR", width, height */
    path_of(path, sizeof path, name, "png");
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "%s missing", path);
    if (!f) return;
    CHECK(fread(head, 1, sizeof head, f) == sizeof head);
    fclose(f);
    CHECK_MSG(memcmp(head, sig, 8) == 0, "%s: not a PNG signature", path);
    CHECK(memcmp(head + 12, "IHDR", 4) == 0);
    const uint32_t pw = be32(head + 16), ph = be32(head + 20);
    if (w) CHECK_MSG(pw == (uint32_t)w && ph == (uint32_t)h, "%s: %ux%u, want %dx%d", path, pw, ph, w, h);
    else CHECK_MSG(pw >= 480 && pw <= 1600 && ph >= 480 && ph <= 1600, "%s: %ux%u out of [480, 1600]", path, pw, ph);
}

/* The whole file as a string (NULL when unreadable). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

static void check_svg(const char *name, const char *title_xml)
{
    char path[1024];
    path_of(path, sizeof path, name, "svg");
    char *s = slurp(path);
    CHECK_MSG(s != NULL, "%s missing", path);
    if (!s) return;
    CHECK_MSG(strncmp(s, "<?xml", 5) == 0, "%s does not start with <?xml", path);
    CHECK_MSG(strstr(s, "<svg") != NULL, "%s has no <svg>", path);
    CHECK_MSG(strstr(s, "</svg>") != NULL, "%s is not closed", path);
    char want[512];
    snprintf(want, sizeof want, "<title>%s</title>", title_xml);
    CHECK_MSG(strstr(s, want) != NULL, "%s lacks %s", path, want);
    CHECK_MSG(strstr(s, "pt\"") != NULL, "%s: size not in points", path);
    free(s);
}

/* ------------------------------------------------------------------ pixels */

typedef struct {
    cairo_surface_t *s;
    int w, h, stride;
    const unsigned char *data; /* [h][stride] bytes; pixels 0xAARRGGBB (opaque) */
} image;

static int load(image *im, const char *name)
{
    char path[1024];
    path_of(path, sizeof path, name, "png");
    im->s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(im->s) != CAIRO_STATUS_SUCCESS) {
        CHECK_MSG(0, "cairo cannot read %s back", path);
        cairo_surface_destroy(im->s);
        return 0;
    }
    im->w = cairo_image_surface_get_width(im->s);
    im->h = cairo_image_surface_get_height(im->s);
    im->stride = cairo_image_surface_get_stride(im->s);
    im->data = cairo_image_surface_get_data(im->s);
    return 1;
}

static uint32_t px(const image *im, int x, int y) { return ((const uint32_t *)(im->data + (size_t)y * im->stride))[x]; }

static int near(uint32_t p, uint32_t rgb, int tol)
{
    for (int sh = 0; sh < 24; sh += 8)
        if (abs((int)((p >> sh) & 0xFF) - (int)((rgb >> sh) & 0xFF)) > tol) return 0;
    return 1;
}

static int is_grey(uint32_t p, int lo, int hi)
{
    const int r = (p >> 16) & 0xFF, g = (p >> 8) & 0xFF, b = p & 0xFF;
    return r == g && g == b && r >= lo && r <= hi;
}

/* A solid 6 × 6 block of colour rgb with its top-left corner at (x, y). */
static int block(const image *im, int x, int y, uint32_t rgb)
{
    if (x + 6 > im->w || y + 6 > im->h) return 0;
    for (int j = 0; j < 6; j++)
        for (int i = 0; i < 6; i++)
            if (!near(px(im, x + i, y + j), rgb, 2)) return 0;
    return 1;
}

/* The solid block of rgb nearest the top-left (last = 0) or bottom-right (last = 1) corner; 0 if none. */
static int find_block(const image *im, uint32_t rgb, int last, int *bx, int *by)
{
    int found = 0, best = 0;
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            if (!block(im, x, y, rgb)) continue;
            const int key = last ? x + y : -(x + y);
            if (!found || key > best) found = 1, best = key, *bx = last ? x + 5 : x, *by = last ? y + 5 : y;
        }
    return found;
}

static int count_near(const image *im, uint32_t rgb, int tol)
{
    int n = 0;
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) n += near(px(im, x, y), rgb, tol);
    return n;
}

/* ------------------------------------------------------------------ figures */

enum { L = 30, H = 9 };

/* The published viridis colours at 0, 0.25, 0.5, 0.75 and 1 (matplotlib). */
static const uint32_t V0 = 0x440154, V25 = 0x3B528B, V50 = 0x21918C, V75 = 0x5EC962, V100 = 0xFDE725;

static void test_heatmap(void)
{
    double v[L * H]; /* [layers][heads], percent */
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) v[l * H + h] = 45 + 15 * sin(0.7 * l + 1.3 * h);
    v[0 * H + 0] = 0;     /* the top-left cell: vmin */
    v[(L - 1) * H + H - 1] = 100; /* the bottom-right cell: vmax */
    v[5 * H + 2] = 25;
    v[10 * H + 4] = 50;
    v[20 * H + 6] = 75;
    v[15 * H + 1] = v[15 * H + 2] = v[3 * H + 7] = NAN;
    const ss_heatmap hm = {.title = "Sink_1 per layer & head (Llama-3.1-8B, natural text)", .xlabel = "head",
                           .ylabel = "layer", .cbar_label = "Sink_1 (%)", .rows = L, .cols = H, .values = v,
                           .vmin = 0, .vmax = 100};
    ss_status st = ss_figure_heatmap(g_dir, "heatmap", &hm);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    check_png("heatmap", 0, 0);
    check_svg("heatmap", "Sink_1 per layer &amp; head (Llama-3.1-8B, natural text)");

    image im;
    if (!load(&im, "heatmap")) return;
    CHECK(im.h > im.w); /* 30 rows of cells are taller than 9 columns */
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    CHECK_MSG(find_block(&im, V0, 0, &x0, &y0), "no cell of the vmin colour #440154");
    CHECK_MSG(find_block(&im, V100, 1, &x1, &y1), "no cell of the vmax colour #fde725");
    CHECK(x1 > x0 + 100 && y1 > y0 + 300);
    const double cw = (x1 - x0 + 1.0) / H, ch = (y1 - y0 + 1.0) / L; /* a cell, from the two corner cells */
    CHECK(cw >= 20 && ch >= 15);
#define CELL(r, c) px(&im, (int)(x0 + ((c) + 0.5) * cw), (int)(y0 + ((r) + 0.5) * ch))
    CHECK_MSG(near(CELL(0, 0), V0, 3), "cell (0,0) = %06x", CELL(0, 0) & 0xFFFFFF);
    CHECK_MSG(near(CELL(5, 2), V25, 3), "cell (5,2) = %06x, want 3b528b", CELL(5, 2) & 0xFFFFFF);
    CHECK_MSG(near(CELL(10, 4), V50, 3), "cell (10,4) = %06x, want 21918c", CELL(10, 4) & 0xFFFFFF);
    CHECK_MSG(near(CELL(20, 6), V75, 3), "cell (20,6) = %06x, want 5ec962", CELL(20, 6) & 0xFFFFFF);
    CHECK_MSG(near(CELL(L - 1, H - 1), V100, 3), "cell (29,8) = %06x", CELL(L - 1, H - 1) & 0xFFFFFF);
    /* NaN cells: light grey (fill or hatch), a neighbour is not */
    for (int dy = -3; dy <= 3; dy += 3)
        for (int dx = -3; dx <= 3; dx += 3) {
            const uint32_t p = px(&im, (int)(x0 + 1.5 * cw) + dx, (int)(y0 + 15.5 * ch) + dy);
            CHECK_MSG(is_grey(p, 170, 230), "NaN cell (15,1) pixel = %06x", p & 0xFFFFFF);
        }
    CHECK(is_grey(CELL(3, 7), 170, 230));
    CHECK(!is_grey(CELL(3, 6), 0, 255));
#undef CELL
    /* the colour bar to the right of the cells runs from vmax (top) to vmin (bottom) */
    int bar_top = 0, bar_bottom = 0;
    for (int x = x1 + 2; x < im.w; x++) {
        for (int y = y0; y < y1 && !bar_top; y++)
            if (near(px(&im, x, y), V100, 8)) bar_top = y;
        if (bar_top) {
            for (int y = y1; y > y0 && !bar_bottom; y--)
                if (near(px(&im, x, y), V0, 8)) bar_bottom = y;
            break;
        }
    }
    CHECK_MSG(bar_top && bar_bottom > bar_top + 200, "colour bar not found (top %d, bottom %d)", bar_top, bar_bottom);
    cairo_surface_destroy(im.s);
}

static void test_attention_map(void)
{
    static const char *const tok[] = {"<s>", "The", "\xC4\xA0quick", "\xE2\x96\x81" "brown", "fox", "jumps",
                                      "supercalifragilisticexpialidocious", "\xFF\xFE", ",", "\n", "Gr\xC3\xBC\xC3\x9F"
                                      "e", "."};
    enum { T = 12 };
    double a[T * T]; /* [query][key]: causal attention, NaN above the diagonal */
    for (int q = 0; q < T; q++) {
        double z = 0;
        for (int k = 0; k <= q; k++) z += k == 0 ? 8 : 1;
        for (int k = 0; k < T; k++) a[q * T + k] = k > q ? NAN : (k == 0 ? 8 : 1) / z;
    }
    const ss_heatmap hm = {.title = "Attention, layer 12 head 3", .xlabel = "key token", .ylabel = "query token",
                           .cbar_label = "attention weight", .rows = T, .cols = T, .values = a, .vmin = 0, .vmax = 1,
                           .row_labels = tok, .col_labels = tok};
    ss_status st = ss_figure_heatmap(g_dir, "attention", &hm);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    check_png("attention", 0, 0);
    check_svg("attention", "Attention, layer 12 head 3");
    image im;
    if (!load(&im, "attention")) return;
    CHECK(count_near(&im, 0xDBDBDB, 1) > 500); /* the NaN upper triangle */
    cairo_surface_destroy(im.s);
}

static void test_big_and_auto(void)
{
    enum { N = 300 };
    double *v = malloc(sizeof(double) * N * N); /* [N][N] */
    for (int i = 0; i < N * N; i++) v[i] = 50;
    v[0] = NAN;
    const ss_heatmap big = {.title = "big", .rows = N, .cols = N, .values = v, .vmin = 0, .vmax = 100};
    ss_status st = ss_figure_heatmap(g_dir, "big", &big);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    check_png("big", 1600, 1600);
    check_svg("big", "big");
    image im;
    if (load(&im, "big")) {
        CHECK(count_near(&im, V50, 3) > 1000 * 1000);
        cairo_surface_destroy(im.s);
    }
    for (int i = 0; i < 9; i++) v[i] = 3; /* all equal, automatic scale (vmin = vmax) */
    const ss_heatmap flat = {.title = "flat", .rows = 3, .cols = 3, .values = v};
    st = ss_figure_heatmap(g_dir, "flat", &flat);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    check_png("flat", 480, 480);
    free(v);
}

static void test_lines(void)
{
    enum { S = 3, P = 11 };
    double x[P], y[S * P]; /* [P], [S][P] */
    for (int i = 0; i < P; i++) {
        x[i] = pow(10, i / 2.0); /* 1 .. 1e5 training steps */
        for (int s = 0; s < S; s++) y[s * P + i] = 100 / (1 + exp(-(i - 3.0 - 2 * s))) ;
    }
    y[1 * P + 4] = y[1 * P + 5] = NAN; /* a gap */
    y[2 * P + 0] = NAN;
    const char *names[S] = {"Pythia-160M", "Pythia-410M", "Pythia-1B"};
    ss_lines l = {.title = "Emergence of the BOS sink", .xlabel = "training step", .ylabel = "Sink_1 (%)",
                  .n_series = S, .n_points = P, .x = x, .y = y, .series_names = names, .log_x = 1};
    ss_status st = ss_figure_lines(g_dir, "lines", &l);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    check_png("lines", 800, 500);
    check_svg("lines", "Emergence of the BOS sink");
    image im;
    if (load(&im, "lines")) {
        CHECK(count_near(&im, 0xE69F00, 2) > 100); /* orange, sky blue, bluish green */
        CHECK(count_near(&im, 0x56B4E9, 2) > 100);
        CHECK(count_near(&im, 0x009E73, 2) > 100);
        cairo_surface_destroy(im.s);
    }
    l.log_x = 0, l.ymin = 0, l.ymax = 100, l.series_names = NULL, l.title = "linear";
    st = ss_figure_lines(g_dir, "lines_linear", &l);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    check_png("lines_linear", 800, 500);

    x[0] = 0; /* not on a log axis */
    l.log_x = 1;
    ss_clear_error();
    CHECK(ss_figure_lines(g_dir, "bad", &l) == SS_ERR_INPUT);
    CHECK(strstr(ss_errmsg(), "x[0]") != NULL);
}

static void test_bars(void)
{
    enum { G = 4, B = 5 };
    const double v[G * B] = {/* [models][frame types], % of heads */
                             55, 20, 5, 15, 5, 10, 60, 5, 20, 5, 30, 30, 10, 25, 5, 0, 0, 90, 5, NAN};
    const char *groups[G] = {"Llama-3.1-8B", "Mistral-7B-v0.3", "BERT-base", "Gemma-3-4B"};
    const char *bars[B] = {"centralized", "distributed", "bidirectional", "mixed", "none"};
    ss_bars b = {.title = "Reference frames by model", .xlabel = "model", .ylabel = "heads (%)", .n_groups = G,
                 .n_bars = B, .values = v, .group_names = groups, .bar_names = bars};
    ss_status st = ss_figure_bars(g_dir, "bars", &b);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    check_png("bars", 800, 500);
    check_svg("bars", "Reference frames by model");
    image im;
    if (load(&im, "bars")) {
        static const uint32_t okabe[B] = {0xE69F00, 0x56B4E9, 0x009E73, 0x0072B2, 0xD55E00};
        for (int k = 0; k < B; k++) CHECK_MSG(count_near(&im, okabe[k], 1) > 150, "bar colour %06x missing", okabe[k]);
        cairo_surface_destroy(im.s);
    }
    b.stacked = 1;
    b.title = "Reference frames by model (stacked)";
    st = ss_figure_bars(g_dir, "bars_stacked", &b);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    check_png("bars_stacked", 800, 500);
    check_svg("bars_stacked", "Reference frames by model (stacked)");
}

/* Degenerate but valid input: one cell without a title, one point, all-NaN curves, negative bars, no names. */
static void test_edges(void)
{
    const double one = 0.5, nan2[2] = {NAN, NAN}, x2[2] = {1, 10}, neg[3] = {-2, 3, -1};
    const ss_heatmap h1 = {.rows = 1, .cols = 1, .values = &one, .vmin = 0, .vmax = 1};
    CHECK(ss_figure_heatmap(g_dir, "edge_cell", &h1) == SS_OK);
    check_png("edge_cell", 480, 480);
    const ss_lines l1 = {.title = "one point", .n_series = 1, .n_points = 1, .x = &one, .y = &one};
    CHECK(ss_figure_lines(g_dir, "edge_point", &l1) == SS_OK);
    const ss_lines l2 = {.title = "all NaN", .n_series = 1, .n_points = 2, .x = x2, .y = nan2, .log_x = 1};
    CHECK(ss_figure_lines(g_dir, "edge_nan", &l2) == SS_OK);
    const ss_bars b1 = {.title = "negative <bars>", .n_groups = 1, .n_bars = 3, .values = neg, .stacked = 1};
    CHECK(ss_figure_bars(g_dir, "edge_bars", &b1) == SS_OK);
    check_png("edge_bars", 800, 500);
    check_svg("edge_bars", "negative &lt;bars&gt;");
}

static void test_errors(void)
{
    const double v[4] = {1, 2, 3, 4};
    ss_heatmap hm = {.title = "t", .rows = 2, .cols = 2, .values = v, .vmin = 0, .vmax = 4};
    char bad[600], path[1024];

    /* a directory below a regular file cannot be created or written, not even by root */
    snprintf(bad, sizeof bad, "%s/not_a_dir", g_dir);
    FILE *f = fopen(bad, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/sub", bad);
    ss_clear_error();
    CHECK(ss_figure_heatmap(path, "x", &hm) == SS_ERR_IO);
    CHECK_MSG(strstr(ss_errmsg(), path) != NULL, "message \"%s\" does not name %s", ss_errmsg(), path);
    const double y[2] = {1, 2}, x[2] = {1, 2};
    const ss_lines l = {.title = "t", .n_series = 1, .n_points = 2, .x = x, .y = y};
    CHECK(ss_figure_lines(path, "x", &l) == SS_ERR_IO);
    CHECK(strstr(ss_errmsg(), path) != NULL);

    /* the PNG can be written, the SVG cannot (a directory stands at its path) */
    snprintf(path, sizeof path, "%s/svg_blocked.svg", g_dir);
    CHECK(mkdir(path, 0700) == 0);
    ss_clear_error();
    CHECK(ss_figure_heatmap(g_dir, "svg_blocked", &hm) == SS_ERR_IO);
    CHECK_MSG(strstr(ss_errmsg(), path) != NULL, "message \"%s\" does not name %s", ss_errmsg(), path);
    rmdir(path);

    hm.rows = 0;
    ss_clear_error();
    CHECK(ss_figure_heatmap(g_dir, "x", &hm) == SS_ERR_INPUT);
    CHECK(strstr(ss_errmsg(), "0 x 2") != NULL);
    hm.rows = 2, hm.values = NULL;
    CHECK(ss_figure_heatmap(g_dir, "x", &hm) == SS_ERR_INPUT);
    hm.values = v, hm.vmin = 5, hm.vmax = 1;
    CHECK(ss_figure_heatmap(g_dir, "x", &hm) == SS_ERR_INPUT);
    CHECK(ss_figure_heatmap(g_dir, "x", NULL) == SS_ERR_INPUT);
    CHECK(ss_figure_heatmap(NULL, "x", &hm) == SS_ERR_INPUT);
    ss_lines l0 = l;
    l0.n_series = 0;
    CHECK(ss_figure_lines(g_dir, "x", &l0) == SS_ERR_INPUT);
    const ss_bars b0 = {.n_groups = 2, .n_bars = 0, .values = v};
    CHECK(ss_figure_bars(g_dir, "x", &b0) == SS_ERR_INPUT);
    const ss_bars b1 = {.n_groups = 2, .n_bars = 2};
    CHECK(ss_figure_bars(g_dir, "x", &b1) == SS_ERR_INPUT);
    CHECK(access(bad, F_OK) == 0 && unlink(bad) == 0);
    snprintf(path, sizeof path, "%s/x.png", g_dir); /* nothing was written for the rejected calls */
    CHECK(access(path, F_OK) != 0);
}

static void cleanup(void)
{
    static const char *const names[] = {"heatmap", "attention", "big", "flat", "lines", "lines_linear", "bars",
                                        "bars_stacked", "svg_blocked", "edge_cell", "edge_point", "edge_nan",
                                        "edge_bars"};
    char path[1024];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_of(path, sizeof path, names[i], "png");
        unlink(path);
        path_of(path, sizeof path, names[i], "svg");
        unlink(path);
    }
    CHECK_MSG(rmdir(g_dir) == 0, "%s: left files behind", g_dir);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
        mkdir(g_dir, 0755);
        g_keep = 1;
    } else {
        snprintf(g_dir, sizeof g_dir, "%s/ss_figures_XXXXXX", test_env("TMPDIR", "/tmp"));
        if (!mkdtemp(g_dir)) SKIP("cannot make a temporary directory under %s", test_env("TMPDIR", "/tmp"));
    }
    test_heatmap();
    test_attention_map();
    test_big_and_auto();
    test_lines();
    test_bars();
    test_edges();
    test_errors();
    if (!g_keep) cleanup();
    cairo_debug_reset_static_data();
    TEST_END();
}
