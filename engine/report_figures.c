/* report_figures.c: the report's figures (report_figures.h), drawn with cairo.
 *
 * Every figure has one drawing function (cairo_t, width, height) that write_figure calls twice: on an image surface
 * written as DIR/<name>.png (cairo_surface_write_to_png) and on an SVG surface in points written as DIR/<name>.svg.
 * Text is cairo's toy "sans-serif" font with hinted metrics off, so that both surfaces lay out alike. cairo draws SVG
 * text as glyph outlines; the figure's title goes into the SVG as a <title> element (inserted by the stream writer)
 * so that the file names what it shows, for search and screen readers.
 *
 * Palettes: viridis (17 evenly spaced anchors of the published colormap, interpolated linearly) for values,
 * Okabe–Ito's 8 colours for categories (series, bars). Missing values (NaN) are light grey, hatched in heatmaps. */
#include "report_figures.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h" /* ss_path_join */

#define PI_ 3.14159265358979323846
#define FONT "sans-serif"
#define PAD 12.0          /* outer margin */
#define FS_TITLE 16.0     /* font sizes */
#define FS_LABEL 13.0
#define FS_TICK 11.0
#define TICK_LEN 4.0
#define CELL_PREF 24.0    /* a heatmap cell's side when the figure has room */
#define SIDE_MIN 480.0    /* heatmap sides */
#define SIDE_MAX 1600.0
#define CHART_W 800       /* line and bar charts */
#define CHART_H 500
#define CBAR_W 16.0       /* colour bar */
#define IMAGE_CELLS 65536 /* heatmaps with more cells (or cells under 2 px) are drawn as one scaled image */
#define TEXT_MAX 512      /* bytes of a cleaned string */
#define TITLE_CHARS 120   /* longest title, axis label, tick label and legend entry (longer ones end in "…") */
#define LABEL_CHARS 60
#define TICK_CHARS 20
#define LEGEND_CHARS 32

typedef struct {
    double r, g, b;
} rgb;

/* ------------------------------------------------------------------ palettes */

/* viridis (van der Walt & Smith, matplotlib 2.0): the 256-entry table sampled at t = k/16 (linear interpolation
 * between its entries at 255 k/16). Piecewise-linear interpolation of these anchors stays within 6/255 of the
 * full table. */
static const rgb VIRIDIS[17] = {
    {0.267004, 0.004874, 0.329415}, /*  0/16 */
    {0.282302, 0.094624, 0.417024}, /*  1/16 */
    {0.278919, 0.174879, 0.482972}, /*  2/16 */
    {0.259266, 0.250672, 0.524378}, /*  3/16 */
    {0.230223, 0.321297, 0.545488}, /*  4/16 */
    {0.199995, 0.386377, 0.554533}, /*  5/16 */
    {0.173302, 0.447386, 0.557850}, /*  6/16 */
    {0.149668, 0.506440, 0.557329}, /*  7/16 */
    {0.128148, 0.565107, 0.550893}, /*  8/16 */
    {0.120325, 0.623765, 0.534308}, /*  9/16 */
    {0.155378, 0.681539, 0.503240}, /* 10/16 */
    {0.241467, 0.736626, 0.454543}, /* 11/16 */
    {0.362859, 0.786695, 0.386589}, /* 12/16 */
    {0.508094, 0.829231, 0.299221}, /* 13/16 */
    {0.669358, 0.862217, 0.195444}, /* 14/16 */
    {0.835913, 0.886110, 0.102462}, /* 15/16 */
    {0.993248, 0.906157, 0.143936}, /* 16/16 */
};
#define N_VIRIDIS ((int)(sizeof VIRIDIS / sizeof VIRIDIS[0]))

/* Okabe & Ito (2008), "Color Universal Design": orange, sky blue, bluish green, blue, vermillion, reddish purple,
 * black, yellow (last: the weakest against white). Series beyond 8 repeat the colours with a dashed line. */
static const uint32_t OKABE_ITO[8] = {0xE69F00, 0x56B4E9, 0x009E73, 0x0072B2, 0xD55E00, 0xCC79A7, 0x000000, 0xF0E442};

static const rgb NAN_GREY = {0.86, 0.86, 0.86};
static const rgb HATCH_GREY = {0.72, 0.72, 0.72};
static const rgb INK = {0.15, 0.15, 0.15};  /* text, axes */
static const rgb GRID = {0.90, 0.90, 0.90}; /* grid lines */

/* The viridis colour at t in [0, 1] (clamped; NaN gives the NaN grey). */
static rgb viridis(double t)
{
    if (isnan(t)) return NAN_GREY;
    if (t <= 0) return VIRIDIS[0];
    if (t >= 1) return VIRIDIS[N_VIRIDIS - 1];
    const double p = t * (N_VIRIDIS - 1);
    const int k = (int)p < N_VIRIDIS - 2 ? (int)p : N_VIRIDIS - 2;
    const double f = p - k;
    const rgb a = VIRIDIS[k], b = VIRIDIS[k + 1];
    return (rgb){a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

static rgb category(int i)
{
    const uint32_t c = OKABE_ITO[i % 8];
    return (rgb){((c >> 16) & 0xFF) / 255.0, ((c >> 8) & 0xFF) / 255.0, (c & 0xFF) / 255.0};
}

static void set_rgb(cairo_t *cr, rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

/* ------------------------------------------------------------------ text */

enum { AL_START, AL_MID, AL_END };            /* along the text */
enum { VA_TOP, VA_MID, VA_BASE, VA_BOTTOM }; /* across it */

/* Copies s into out[cap] as valid UTF-8 that cairo's toy API accepts: invalid bytes and control characters become
 * '?', and a string longer than max_chars code points is cut to max_chars - 1 and ends in "…". NULL gives "". */
static void clean_text(const char *s, char *out, size_t cap, int max_chars)
{
    size_t o = 0;
    int chars = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned cp = *p;
        int len = 1;
        if (cp >= 0xC2 && cp <= 0xDF) len = 2, cp &= 0x1F;
        else if (cp >= 0xE0 && cp <= 0xEF) len = 3, cp &= 0x0F;
        else if (cp >= 0xF0 && cp <= 0xF4) len = 4, cp &= 0x07;
        else if (cp >= 0x80) len = 0; /* a stray continuation byte or an invalid lead */
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                len = 0;
                break;
            }
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) len = 0; /* overlong, surrogate */
        if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) len = 0;
        const unsigned char *src = p;
        int n = len;
        if (len == 0 || cp < 0x20 || cp == 0x7F) {
            src = (const unsigned char *)"?";
            n = 1;
        }
        if (chars == max_chars - 1) { /* one more character fits: the last one, or the ellipsis */
            const unsigned char *next = p + (len ? len : 1);
            if (*next) {
                src = (const unsigned char *)"\xE2\x80\xA6";
                n = 3;
            }
        }
        if (o + (size_t)n + 1 > cap) break;
        memcpy(out + o, src, (size_t)n);
        o += (size_t)n;
        if (++chars == max_chars) break;
        p += len ? len : 1;
    }
    out[o] = '\0';
}

/* Code points in s (after clean_text). */
static int text_chars(const char *s)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) n += (*p & 0xC0) != 0x80;
    return n;
}

static void set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* The advance width of s (cleaned, at most max_chars) in the current font. */
static double text_width(cairo_t *cr, const char *s, int max_chars)
{
    char buf[TEXT_MAX];
    cairo_text_extents_t e;
    clean_text(s, buf, sizeof buf, max_chars);
    cairo_text_extents(cr, buf, &e);
    return e.x_advance;
}

/* Draws s (cleaned, at most max_chars) in the current font and source with its anchor at (x, y), turned by angle
 * (radians; -π/2 reads upwards). ha places the anchor along the text, va across it (cap-height based). */
static void draw_text(cairo_t *cr, const char *s, int max_chars, double x, double y, double angle, int ha, int va)
{
    char buf[TEXT_MAX];
    cairo_text_extents_t e;
    cairo_matrix_t m;
    clean_text(s, buf, sizeof buf, max_chars);
    if (!buf[0]) return;
    cairo_text_extents(cr, buf, &e);
    cairo_get_font_matrix(cr, &m);
    const double size = m.yy;
    const double dx = ha == AL_START ? 0 : ha == AL_MID ? -e.x_advance / 2 : -e.x_advance;
    const double dy = va == VA_TOP ? 0.73 * size : va == VA_MID ? 0.36 * size : va == VA_BASE ? 0 : -0.22 * size;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    cairo_move_to(cr, dx, dy);
    cairo_show_text(cr, buf);
    cairo_restore(cr);
}

/* The title centred at the top, shrunk to fit the width. Returns the y below it. */
static double draw_title(cairo_t *cr, const char *title, double w)
{
    if (!title || !title[0]) return PAD;
    set_font(cr, FS_TITLE, 1);
    const double tw = text_width(cr, title, TITLE_CHARS);
    if (tw > w - 2 * PAD) cairo_set_font_size(cr, FS_TITLE * (w - 2 * PAD) / tw);
    set_rgb(cr, INK);
    draw_text(cr, title, TITLE_CHARS, w / 2, PAD, 0, AL_MID, VA_TOP);
    set_font(cr, FS_TICK, 0);
    return PAD + FS_TITLE + 14;
}

/* A clean start: white background, font options equal for both surfaces, round joins. */
static void begin(cairo_t *cr, double w, double h)
{
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, 0, 0, w, h);
    cairo_fill(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    set_font(cr, FS_TICK, 0);
}

/* Pixel-centred coordinate for crisp 1-px lines. */
static double crisp(double v) { return floor(v) + 0.5; }

static void hline(cairo_t *cr, double x0, double x1, double y)
{
    cairo_move_to(cr, x0, crisp(y));
    cairo_line_to(cr, x1, crisp(y));
    cairo_stroke(cr);
}

static void vline(cairo_t *cr, double x, double y0, double y1)
{
    cairo_move_to(cr, crisp(x), y0);
    cairo_line_to(cr, crisp(x), y1);
    cairo_stroke(cr);
}

/* ------------------------------------------------------------------ ticks */

#define MAX_TICKS 128

typedef struct {
    int n;
    double v[MAX_TICKS];       /* axis coordinate (log10 x on log axes) */
    char label[MAX_TICKS][24]; /* "" for a minor tick */
} ticks;

/* Label every k-th of n items spaced `spacing` apart, k from 1, 2, 5, 10, 20, ... so that k·spacing >= need. */
static int thin_step(double spacing, double need)
{
    static const int base[] = {1, 2, 5};
    for (int scale = 1; scale < 100000000; scale *= 10)
        for (int i = 0; i < 3; i++)
            if (base[i] * scale * spacing >= need) return base[i] * scale;
    return 100000000;
}

/* Ticks at a "nice" step (1, 2, 2.5 or 5 × 10^k) giving about `target` intervals over [lo, hi]. */
static void linear_ticks(double lo, double hi, int target, ticks *t)
{
    t->n = 0;
    if (!(hi > lo) || !isfinite(hi - lo)) return;
    const double raw = (hi - lo) / target, mag = pow(10, floor(log10(raw))), m = raw / mag;
    const double step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * mag;
    int dec = 0; /* decimals that show the step exactly */
    while (dec < 9 && fabs(step * pow(10, dec) - nearbyint(step * pow(10, dec))) > 1e-6 * step * pow(10, dec)) dec++;
    const double big = fmax(fabs(lo), fabs(hi));
    for (double k = ceil(lo / step - 1e-9); t->n < MAX_TICKS; k++) {
        double v = k * step;
        if (v > hi + 1e-9 * step) break;
        if (fabs(v) < 1e-9 * step) v = 0;
        t->v[t->n] = v;
        if (big >= 1e6 || (big < 1e-3 && v != 0)) snprintf(t->label[t->n], sizeof t->label[0], "%.3g", v);
        else snprintf(t->label[t->n], sizeof t->label[0], "%.*f", dec, v);
        t->n++;
    }
}

/* Log ticks over [lo, hi] = log10 of the range: labelled decades (every second, fifth, ... one past 10 decades),
 * unlabelled 2..9 × 10^k; when the range spans less than two decades, 2 × and 5 × 10^k are labelled too. */
static void log_ticks(double lo, double hi, ticks *t)
{
    t->n = 0;
    if (!(hi > lo)) return;
    const int dense = hi - lo < 2, every = thin_step(1, (hi - lo) / 10);
    for (int k = (int)floor(lo); k <= (int)ceil(hi) && t->n < MAX_TICKS; k++)
        for (int m = 1; m <= 9 && t->n < MAX_TICKS; m++) {
            const double v = k + log10(m);
            if (v < lo - 1e-9 || v > hi + 1e-9) continue;
            t->v[t->n] = v;
            t->label[t->n][0] = '\0';
            if ((m == 1 && k % every == 0) || (dense && (m == 2 || m == 5))) {
                if (k >= -3 && k <= 5) snprintf(t->label[t->n], sizeof t->label[0], "%g", m * pow(10, k));
                else if (m == 1) snprintf(t->label[t->n], sizeof t->label[0], "1e%d", k);
                else snprintf(t->label[t->n], sizeof t->label[0], "%de%d", m, k);
            }
            t->n++;
        }
}

static double ticks_width(cairo_t *cr, const ticks *t)
{
    double w = 0;
    for (int i = 0; i < t->n; i++) w = fmax(w, text_width(cr, t->label[i], TICK_CHARS));
    return w;
}


/* ------------------------------------------------------------------ legend */

enum { KEY_LINE, KEY_BOX };

static void marker(cairo_t *cr, int shape, double x, double y, double r)
{
    switch (shape % 4) {
    case 0: cairo_new_sub_path(cr), cairo_arc(cr, x, y, r, 0, 2 * PI_); break;
    case 1: cairo_rectangle(cr, x - 0.85 * r, y - 0.85 * r, 1.7 * r, 1.7 * r); break;
    case 2:
        cairo_move_to(cr, x, y - 1.15 * r);
        cairo_line_to(cr, x + r, y + 0.75 * r);
        cairo_line_to(cr, x - r, y + 0.75 * r);
        cairo_close_path(cr);
        break;
    default:
        cairo_move_to(cr, x, y - 1.2 * r);
        cairo_line_to(cr, x + r, y);
        cairo_line_to(cr, x, y + 1.2 * r);
        cairo_line_to(cr, x - r, y);
        cairo_close_path(cr);
    }
}

static void series_style(cairo_t *cr, int i)
{
    static const double dash[] = {6, 3};
    set_rgb(cr, category(i));
    cairo_set_line_width(cr, 1.8);
    cairo_set_dash(cr, dash, i >= 8 ? 2 : 0, 0);
}

#define LEGEND_ROW 18.0
#define LEGEND_KEY 26.0

static const char *name_of(const char *const *names, int i, const char *what, char *buf, size_t cap)
{
    if (names && names[i]) return names[i];
    snprintf(buf, cap, "%s %d", what, i + 1);
    return buf;
}

/* Width of a legend box with these entries. */
static double legend_width(cairo_t *cr, const char *const *names, int n, const char *what)
{
    char buf[32];
    double w = 0;
    set_font(cr, FS_TICK, 0);
    for (int i = 0; i < n; i++) w = fmax(w, text_width(cr, name_of(names, i, what, buf, sizeof buf), LEGEND_CHARS));
    return 8 + LEGEND_KEY + 6 + w + 8;
}

/* A framed legend with its top-left corner at (x, y), one row per entry, in palette order (reversed: the last
 * entry on top, as in a stack). */
static void draw_legend(cairo_t *cr, double x, double y, double w, const char *const *names, int n, const char *what,
                        int kind, int reversed)
{
    char buf[32];
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, crisp(x), crisp(y), floor(w), floor(n * LEGEND_ROW + 8));
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    set_font(cr, FS_TICK, 0);
    for (int i = 0; i < n; i++) {
        const double cy = y + 4 + ((reversed ? n - 1 - i : i) + 0.5) * LEGEND_ROW, kx = x + 8;
        if (kind == KEY_LINE) {
            series_style(cr, i);
            cairo_move_to(cr, kx, cy);
            cairo_line_to(cr, kx + LEGEND_KEY, cy);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
            marker(cr, i, kx + LEGEND_KEY / 2, cy, 3.5);
            cairo_fill(cr);
        } else {
            set_rgb(cr, category(i));
            cairo_rectangle(cr, kx + 5, cy - 6, LEGEND_KEY - 10, 12);
            cairo_fill_preserve(cr);
            set_rgb(cr, INK);
            cairo_set_line_width(cr, 0.8);
            cairo_stroke(cr);
        }
        set_rgb(cr, INK);
        draw_text(cr, name_of(names, i, what, buf, sizeof buf), LEGEND_CHARS, kx + LEGEND_KEY + 6, cy, 0, AL_START,
                  VA_MID);
    }
}

/* ------------------------------------------------------------------ shared axes */

/* The plot area of a chart. */
typedef struct {
    double x0, y0, w, h;
} box;

static void draw_frame(cairo_t *cr, box b)
{
    set_rgb(cr, INK);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, crisp(b.x0), crisp(b.y0), floor(b.x0 + b.w) - floor(b.x0), floor(b.y0 + b.h) - floor(b.y0));
    cairo_stroke(cr);
}

/* The x label centred under the plot and the y label reading upwards at the left edge. */
static void draw_axis_labels(cairo_t *cr, box b, double h, const char *xlabel, const char *ylabel)
{
    set_font(cr, FS_LABEL, 0);
    set_rgb(cr, INK);
    draw_text(cr, xlabel, LABEL_CHARS, b.x0 + b.w / 2, h - PAD, 0, AL_MID, VA_BOTTOM);
    draw_text(cr, ylabel, LABEL_CHARS, PAD, b.y0 + b.h / 2, -PI_ / 2, AL_MID, VA_TOP);
    set_font(cr, FS_TICK, 0);
}

/* Linear value ticks on the y axis of b over [lo, hi], with grid lines. */
static void draw_y_ticks(cairo_t *cr, box b, const ticks *t, double lo, double hi)
{
    set_font(cr, FS_TICK, 0);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < t->n; i++) {
        const double y = b.y0 + b.h - (t->v[i] - lo) / (hi - lo) * b.h;
        set_rgb(cr, GRID);
        hline(cr, b.x0 + 1, b.x0 + b.w, y);
        set_rgb(cr, INK);
        hline(cr, b.x0 - TICK_LEN, b.x0, y);
        draw_text(cr, t->label[i], TICK_CHARS, b.x0 - TICK_LEN - 4, crisp(y), 0, AL_END, VA_MID);
    }
}

/* ------------------------------------------------------------------ writing: PNG and SVG */

typedef ss_status (*draw_fn)(cairo_t *cr, double w, double h, const void *fig);

/* The SVG stream: copies cairo's output to f, adding <title> after the opening <svg ...> tag. */
typedef struct {
    FILE *f;
    const char *title; /* XML-escaped, or NULL */
    int state;         /* 0-3: characters of "<svg" matched; 4: inside that tag; 5: title written */
    int err;           /* errno of a failed write */
} svg_sink;

static cairo_status_t svg_write(void *closure, const unsigned char *data, unsigned int len)
{
    svg_sink *s = closure;
    unsigned int i = 0;
    while (s->state < 5 && i < len) {
        const unsigned char c = data[i++];
        if (s->state == 4) {
            if (c == '>') s->state = 5;
        } else {
            s->state = c == (unsigned char)"<svg"[s->state] ? s->state + 1 : c == '<';
        }
    }
    if (fwrite(data, 1, i, s->f) != i) goto fail;
    if (s->state == 5 && s->title) {
        if (fprintf(s->f, "\n<title>%s</title>", s->title) < 0) goto fail;
        s->title = NULL;
    }
    if (fwrite(data + i, 1, len - i, s->f) != len - i) goto fail;
    return CAIRO_STATUS_SUCCESS;
fail:
    s->err = errno ? errno : EIO;
    return CAIRO_STATUS_WRITE_ERROR;
}

/* s cleaned and escaped for XML text into out[cap]. */
static void xml_escape(const char *s, char *out, size_t cap)
{
    char buf[TEXT_MAX];
    size_t o = 0;
    clean_text(s, buf, sizeof buf, TITLE_CHARS);
    for (const char *p = buf; *p && o + 7 < cap; p++) {
        const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
        if (e) {
            memcpy(out + o, e, strlen(e));
            o += strlen(e);
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* Draws fig twice with draw(): as DIR/<name>.png (w × h pixels) and DIR/<name>.svg (w × h points). */
static ss_status write_figure(const char *dir, const char *name, const char *title, int w, int h, draw_fn draw,
                              const void *fig)
{
    ss_status st = SS_OK;
    char *stem = NULL, *png = NULL, *svg = NULL;
    char esc[6 * TEXT_MAX];
    cairo_surface_t *surf = NULL;
    cairo_t *cr = NULL;
    FILE *f = NULL;
    int made_svg = 0;
    cairo_status_t cs;

    const size_t n = strlen(name) + 5;
    stem = ss_path_join(dir, name);
    png = stem ? malloc(n + strlen(dir) + 1) : NULL;
    svg = stem ? malloc(n + strlen(dir) + 1) : NULL;
    if (!png || !svg) {
        st = ss_fail(SS_ERR_NOMEM, "figure %s: out of memory", name);
        goto done;
    }
    snprintf(png, n + strlen(dir) + 1, "%s.png", stem);
    snprintf(svg, n + strlen(dir) + 1, "%s.svg", stem);

    /* PNG: 1 px per unit */
    surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        st = ss_fail(SS_ERR_NOMEM, "%s: cannot create a %d x %d image: %s", png, w, h,
                     cairo_status_to_string(cairo_surface_status(surf)));
        goto done;
    }
    cr = cairo_create(surf);
    if ((st = draw(cr, w, h, fig)) != SS_OK) goto done;
    if ((cs = cairo_status(cr)) != CAIRO_STATUS_SUCCESS) {
        st = ss_fail(SS_ERR_INTERNAL, "%s: drawing failed: %s", png, cairo_status_to_string(cs));
        goto done;
    }
    cairo_destroy(cr);
    cr = NULL;
    errno = 0;
    if ((cs = cairo_surface_write_to_png(surf, png)) != CAIRO_STATUS_SUCCESS) {
        const int e = errno;
        st = ss_fail(SS_ERR_IO, "%s: cannot write the figure: %s", png, e ? strerror(e) : cairo_status_to_string(cs));
        goto done;
    }
    cairo_surface_destroy(surf);
    surf = NULL;

    /* SVG: points, same geometry */
    if (!(f = fopen(svg, "wb"))) {
        st = ss_fail(SS_ERR_IO, "%s: cannot write the figure: %s", svg, strerror(errno));
        goto done;
    }
    made_svg = 1;
    xml_escape(title, esc, sizeof esc);
    svg_sink sink = {.f = f, .title = esc[0] ? esc : NULL};
    surf = cairo_svg_surface_create_for_stream(svg_write, &sink, w, h);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        st = ss_fail(SS_ERR_NOMEM, "%s: cannot create the SVG surface: %s", svg,
                     cairo_status_to_string(cairo_surface_status(surf)));
        goto done;
    }
    cairo_svg_surface_set_document_unit(surf, CAIRO_SVG_UNIT_PT);
    cr = cairo_create(surf);
    if ((st = draw(cr, w, h, fig)) != SS_OK) goto done;
    if ((cs = cairo_status(cr)) != CAIRO_STATUS_SUCCESS) {
        st = ss_fail(SS_ERR_INTERNAL, "%s: drawing failed: %s", svg, cairo_status_to_string(cs));
        goto done;
    }
    cairo_destroy(cr);
    cr = NULL;
    cairo_surface_finish(surf);
    if ((cs = cairo_surface_status(surf)) != CAIRO_STATUS_SUCCESS || sink.err) {
        st = ss_fail(SS_ERR_IO, "%s: cannot write the figure: %s", svg,
                     sink.err ? strerror(sink.err) : cairo_status_to_string(cs));
        goto done;
    }
    cairo_surface_destroy(surf);
    surf = NULL;
    const int closed = fclose(f);
    f = NULL;
    if (closed != 0) st = ss_fail(SS_ERR_IO, "%s: cannot write the figure: %s", svg, strerror(errno));

done:
    if (cr) cairo_destroy(cr);
    if (surf) cairo_surface_destroy(surf); /* an unfinished SVG surface writes its rest to f here */
    if (f) fclose(f);
    if (st != SS_OK && made_svg) remove(svg); /* no half-written figure */
    free(stem);
    free(png);
    free(svg);
    return st;
}

/* A scratch context for measuring text before the figure's size is known; NULL when out of memory. */
static cairo_t *measure_context(cairo_surface_t **surf)
{
    *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
    cairo_t *cr = cairo_create(*surf);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(cr);
        cairo_surface_destroy(*surf);
        return NULL;
    }
    begin(cr, 1, 1);
    return cr;
}

static void measure_done(cairo_t *cr, cairo_surface_t *surf)
{
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
}

static ss_status check_common(const char *dir, const char *name, const void *spec, const char *what)
{
    if (!dir || !name || !name[0] || !spec)
        return ss_fail(SS_ERR_INPUT, "%s figure: %s is missing", what,
                       !dir ? "the directory" : !spec ? "the data" : "the name");
    return SS_OK;
}

/* ------------------------------------------------------------------ heatmap */

typedef struct {
    const ss_heatmap *h;
    double vmin, vmax; /* the colour scale in effect */
    int any_nan;
    ticks cbar;
    /* margins around the cell area (from the labels; independent of the figure's size) */
    double left, right, top, bottom;
    double row_w, col_w, cbar_w; /* widest row label, column label, colour-bar tick label */
    int rot;                     /* 1: column labels turned 90° */
} heat_fig;

static const char *axis_label(const char *const *labels, int i, char *buf, size_t cap)
{
    if (labels && labels[i]) return labels[i];
    snprintf(buf, cap, "%d", i);
    return buf;
}

/* Measures the labels and sets the margins. */
static void heat_margins(cairo_t *cr, heat_fig *f)
{
    const ss_heatmap *h = f->h;
    char buf[TEXT_MAX], idx[16];
    set_font(cr, FS_TICK, 0);
    f->row_w = f->col_w = 0;
    f->rot = 0;
    for (int r = 0; r < h->rows; r++)
        f->row_w = fmax(f->row_w, text_width(cr, axis_label(h->row_labels, r, idx, sizeof idx), TICK_CHARS));
    for (int c = 0; c < h->cols; c++) {
        const char *s = axis_label(h->col_labels, c, idx, sizeof idx);
        clean_text(s, buf, sizeof buf, TICK_CHARS);
        if (text_chars(buf) > 2) f->rot = 1;
        f->col_w = fmax(f->col_w, text_width(cr, s, TICK_CHARS));
    }
    f->cbar_w = ticks_width(cr, &f->cbar);
    f->top = h->title && h->title[0] ? PAD + FS_TITLE + 14 : PAD + 8;
    f->left = PAD + (h->ylabel && h->ylabel[0] ? FS_LABEL + 8 : 0) + f->row_w + 4 + TICK_LEN;
    f->bottom = TICK_LEN + 4 + (f->rot ? f->col_w : FS_TICK) + 8 + (h->xlabel && h->xlabel[0] ? FS_LABEL + 6 : 0) + PAD;
    f->right = 18 + CBAR_W + TICK_LEN + 4 + f->cbar_w + 8 + PAD;
    if (h->cbar_label && h->cbar_label[0]) f->right += FS_LABEL + 4;
    if (f->any_nan) f->right = fmax(f->right, 18 + CBAR_W + 6 + 30 + PAD);
}

/* The cells as one image of cols × rows pixels scaled onto the cell area (large matrices). */
static ss_status heat_cells_image(cairo_t *cr, const heat_fig *f, box b)
{
    const ss_heatmap *h = f->h;
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, h->cols, h->rows);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        return ss_fail(SS_ERR_NOMEM, "heatmap: cannot create a %d x %d image", h->cols, h->rows);
    }
    cairo_surface_flush(img);
    unsigned char *data = cairo_image_surface_get_data(img); /* [rows][stride] bytes, pixels 0x00RRGGBB */
    const int stride = cairo_image_surface_get_stride(img);
    for (int r = 0; r < h->rows; r++) {
        uint32_t *row = (uint32_t *)(data + (size_t)r * stride); /* [cols] */
        for (int c = 0; c < h->cols; c++) {
            const double v = h->values[(size_t)r * h->cols + c];
            const rgb k = isnan(v) ? NAN_GREY : viridis((v - f->vmin) / (f->vmax - f->vmin));
            row[c] = (uint32_t)lround(k.r * 255) << 16 | (uint32_t)lround(k.g * 255) << 8 | (uint32_t)lround(k.b * 255);
        }
    }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_rectangle(cr, b.x0, b.y0, b.w, b.h);
    cairo_clip(cr);
    cairo_translate(cr, b.x0, b.y0);
    cairo_scale(cr, b.w / h->cols, b.h / h->rows);
    cairo_set_source_surface(cr, img, 0, 0);
    /* enlarged cells stay sharp; shrunk ones (under a pixel) are averaged */
    cairo_pattern_set_filter(cairo_get_source(cr),
                             b.w >= h->cols && b.h >= h->rows ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    return SS_OK;
}

/* The cells one rectangle each, edges on whole units (no seams); NaN cells grey with a diagonal hatch. */
static void heat_cells_rects(cairo_t *cr, const heat_fig *f, box b)
{
    const ss_heatmap *h = f->h;
    cairo_save(cr);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    for (int r = 0; r < h->rows; r++) {
        const double y0 = round(b.y0 + r * b.h / h->rows), y1 = round(b.y0 + (r + 1) * b.h / h->rows);
        for (int c = 0; c < h->cols; c++) {
            const double x0 = round(b.x0 + c * b.w / h->cols), x1 = round(b.x0 + (c + 1) * b.w / h->cols);
            const double v = h->values[(size_t)r * h->cols + c];
            set_rgb(cr, isnan(v) ? NAN_GREY : viridis((v - f->vmin) / (f->vmax - f->vmin)));
            cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
            cairo_fill(cr);
        }
    }
    cairo_restore(cr);
    if (!f->any_nan) return;
    cairo_save(cr); /* the hatch: diagonal lines clipped to the NaN cells */
    for (int r = 0; r < h->rows; r++) {
        const double y0 = round(b.y0 + r * b.h / h->rows), y1 = round(b.y0 + (r + 1) * b.h / h->rows);
        for (int c = 0; c < h->cols; c++) {
            if (!isnan(h->values[(size_t)r * h->cols + c])) continue;
            const double x0 = round(b.x0 + c * b.w / h->cols), x1 = round(b.x0 + (c + 1) * b.w / h->cols);
            cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
        }
    }
    cairo_clip(cr);
    set_rgb(cr, HATCH_GREY);
    cairo_set_line_width(cr, 1);
    for (double d = -b.h; d < b.w; d += 7) {
        cairo_move_to(cr, b.x0 + d, b.y0 + b.h);
        cairo_line_to(cr, b.x0 + d + b.h, b.y0);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

static ss_status heat_draw(cairo_t *cr, double w, double h_px, const void *fig)
{
    const heat_fig *f = fig;
    const ss_heatmap *h = f->h;
    char idx[16];
    begin(cr, w, h_px);
    draw_title(cr, h->title, w);
    const box b = {f->left, f->top, w - f->left - f->right, h_px - f->top - f->bottom};
    const double cw = b.w / h->cols, ch = b.h / h->rows;

    if ((size_t)h->rows * h->cols > IMAGE_CELLS || cw < 2 || ch < 2) {
        const ss_status st = heat_cells_image(cr, f, b);
        if (st != SS_OK) return st;
    } else {
        heat_cells_rects(cr, f, b);
    }
    draw_frame(cr, b);

    /* row ticks (row 0 at the top) and column ticks, thinned so that labels keep apart */
    set_font(cr, FS_TICK, 0);
    set_rgb(cr, INK);
    cairo_set_line_width(cr, 1);
    const int ystep = thin_step(ch, FS_TICK + 3);
    for (int r = 0; r < h->rows; r += ystep) {
        const double y = b.y0 + (r + 0.5) * ch;
        hline(cr, b.x0 - TICK_LEN, b.x0, y);
        draw_text(cr, axis_label(h->row_labels, r, idx, sizeof idx), TICK_CHARS, b.x0 - TICK_LEN - 4, y, 0, AL_END,
                  VA_MID);
    }
    const int xstep = thin_step(cw, f->rot ? FS_TICK + 3 : f->col_w + 8);
    const double ybase = b.y0 + b.h;
    for (int c = 0; c < h->cols; c += xstep) {
        const double x = b.x0 + (c + 0.5) * cw;
        vline(cr, x, ybase, ybase + TICK_LEN);
        const char *s = axis_label(h->col_labels, c, idx, sizeof idx);
        if (f->rot) draw_text(cr, s, TICK_CHARS, x, ybase + TICK_LEN + 4, -PI_ / 2, AL_END, VA_MID);
        else draw_text(cr, s, TICK_CHARS, x, ybase + TICK_LEN + 4, 0, AL_MID, VA_TOP);
    }
    draw_axis_labels(cr, b, h_px, h->xlabel, h->ylabel);

    /* colour bar: a gradient through the same anchors as the cells, vmin at the bottom; the NaN key below it */
    const double bx = b.x0 + b.w + 18, by = b.y0, bh = f->any_nan ? b.h - 30 : b.h;
    cairo_pattern_t *grad = cairo_pattern_create_linear(0, by + bh, 0, by);
    for (int k = 0; k < N_VIRIDIS; k++)
        cairo_pattern_add_color_stop_rgb(grad, (double)k / (N_VIRIDIS - 1), VIRIDIS[k].r, VIRIDIS[k].g, VIRIDIS[k].b);
    cairo_rectangle(cr, bx, by, CBAR_W, bh);
    cairo_set_source(cr, grad);
    cairo_fill(cr);
    cairo_pattern_destroy(grad);
    set_rgb(cr, INK);
    cairo_rectangle(cr, crisp(bx), crisp(by), floor(CBAR_W), floor(by + bh) - floor(by));
    cairo_stroke(cr);
    for (int i = 0; i < f->cbar.n; i++) {
        const double y = by + bh - (f->cbar.v[i] - f->vmin) / (f->vmax - f->vmin) * bh;
        hline(cr, bx + CBAR_W, bx + CBAR_W + TICK_LEN, y);
        draw_text(cr, f->cbar.label[i], TICK_CHARS, bx + CBAR_W + TICK_LEN + 4, crisp(y), 0, AL_START, VA_MID);
    }
    if (h->cbar_label && h->cbar_label[0]) {
        set_font(cr, FS_LABEL, 0);
        draw_text(cr, h->cbar_label, LABEL_CHARS, bx + CBAR_W + TICK_LEN + 4 + f->cbar_w + 8, by + bh / 2, -PI_ / 2,
                  AL_MID, VA_TOP);
        set_font(cr, FS_TICK, 0);
    }
    if (f->any_nan) {
        const double ny = b.y0 + b.h - 14;
        set_rgb(cr, NAN_GREY);
        cairo_rectangle(cr, bx, ny, CBAR_W, 14);
        cairo_fill(cr);
        set_rgb(cr, HATCH_GREY);
        cairo_save(cr);
        cairo_rectangle(cr, bx, ny, CBAR_W, 14);
        cairo_clip(cr);
        for (double d = -14; d < CBAR_W; d += 7) {
            cairo_move_to(cr, bx + d, ny + 14);
            cairo_line_to(cr, bx + d + 14, ny);
        }
        cairo_stroke(cr);
        cairo_restore(cr);
        set_rgb(cr, INK);
        cairo_rectangle(cr, crisp(bx), crisp(ny), floor(CBAR_W), 14);
        cairo_stroke(cr);
        draw_text(cr, "NaN", TICK_CHARS, bx + CBAR_W + 6, ny + 7, 0, AL_START, VA_MID);
    }
    return SS_OK;
}

ss_status ss_figure_heatmap(const char *dir, const char *name, const ss_heatmap *h)
{
    ss_status st = check_common(dir, name, h, "heatmap");
    if (st != SS_OK) return st;
    if (h->rows < 1 || h->cols < 1 || h->rows > 32767 || h->cols > 32767 || !h->values)
        return ss_fail(SS_ERR_INPUT, "heatmap %s: needs 1..32767 rows and columns and values (got %d x %d%s)", name,
                       h->rows, h->cols, h->values ? "" : ", no values");
    if (isnan(h->vmin) || isnan(h->vmax) || isinf(h->vmin) || isinf(h->vmax) || h->vmax < h->vmin)
        return ss_fail(SS_ERR_INPUT, "heatmap %s: colour scale [%g, %g] is not a finite range", name, h->vmin, h->vmax);

    heat_fig f = {.h = h, .vmin = h->vmin, .vmax = h->vmax};
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < (size_t)h->rows * h->cols; i++) {
        const double v = h->values[i];
        if (isnan(v)) f.any_nan = 1;
        else if (isfinite(v)) lo = fmin(lo, v), hi = fmax(hi, v);
    }
    if (f.vmin == f.vmax) { /* auto: the range of the finite values */
        if (lo <= hi) f.vmin = lo, f.vmax = hi;
        if (f.vmin == f.vmax) {
            const double pad = f.vmin != 0 ? 0.05 * fabs(f.vmin) : 0.5;
            f.vmin -= pad, f.vmax += pad;
        }
    }
    linear_ticks(f.vmin, f.vmax, 5, &f.cbar);

    cairo_surface_t *ms;
    cairo_t *cr = measure_context(&ms);
    if (!cr) return ss_fail(SS_ERR_NOMEM, "heatmap %s: out of memory", name);
    heat_margins(cr, &f);
    double title_w = 0;
    if (h->title) {
        set_font(cr, FS_TITLE, 1);
        title_w = text_width(cr, h->title, TITLE_CHARS);
    }
    measure_done(cr, ms);

    const double w = fmin(SIDE_MAX, fmax(fmax(SIDE_MIN, title_w + 2 * PAD), f.left + f.right + h->cols * CELL_PREF));
    const double hh = fmin(SIDE_MAX, fmax(SIDE_MIN, f.top + f.bottom + h->rows * CELL_PREF));
    return write_figure(dir, name, h->title, (int)ceil(w), (int)ceil(hh), heat_draw, &f);
}

/* ------------------------------------------------------------------ lines */

typedef struct {
    const ss_lines *l;
    double x_lo, x_hi, y_lo, y_hi; /* the axes' ranges (x in log10 on a log axis) */
    ticks xt, yt;
} lines_fig;

static double lines_x(const ss_lines *l, int i) { return l->log_x ? log10(l->x[i]) : l->x[i]; }

static ss_status lines_draw(cairo_t *cr, double w, double h, const void *fig)
{
    const lines_fig *f = fig;
    const ss_lines *l = f->l;
    begin(cr, w, h);
    const double top = draw_title(cr, l->title, w);
    const double lw = legend_width(cr, l->series_names, l->n_series, "series");
    set_font(cr, FS_TICK, 0);
    const double left = PAD + (l->ylabel && l->ylabel[0] ? FS_LABEL + 8 : 0) + ticks_width(cr, &f->yt) + 4 + TICK_LEN;
    const double bottom = TICK_LEN + 4 + FS_TICK + 8 + (l->xlabel && l->xlabel[0] ? FS_LABEL + 6 : 0) + PAD;
    const box b = {left, top, w - left - lw - 12 - PAD, h - top - bottom};

    draw_y_ticks(cr, b, &f->yt, f->y_lo, f->y_hi);
    for (int i = 0; i < f->xt.n; i++) {
        const double x = b.x0 + (f->xt.v[i] - f->x_lo) / (f->x_hi - f->x_lo) * b.w;
        const int major = f->xt.label[i][0] != '\0';
        if (major) {
            set_rgb(cr, GRID);
            vline(cr, x, b.y0 + 1, b.y0 + b.h);
        }
        set_rgb(cr, INK);
        vline(cr, x, b.y0 + b.h, b.y0 + b.h + (major ? TICK_LEN : TICK_LEN / 2));
        if (major) draw_text(cr, f->xt.label[i], TICK_CHARS, crisp(x), b.y0 + b.h + TICK_LEN + 4, 0, AL_MID, VA_TOP);
    }

    /* the curves: a NaN ends a segment; markers on every point; clipped to the plot plus a marker's radius, so that
     * points on the range's edge (100%) show whole */
    const double r = fmin(3.5, fmax(1.5, b.w / l->n_points / 3));
    cairo_save(cr);
    cairo_rectangle(cr, b.x0 - r - 1, b.y0 - r - 1, b.w + 2 * r + 2, b.h + 2 * r + 2);
    cairo_clip(cr);
    for (int s = 0; s < l->n_series; s++) {
        const double *y = l->y + (size_t)s * l->n_points; /* [n_points] */
        series_style(cr, s);
        int pen = 0;
        for (int i = 0; i < l->n_points; i++) {
            const double xv = lines_x(l, i);
            if (!isfinite(y[i]) || !isfinite(xv)) {
                pen = 0;
                continue;
            }
            const double px = b.x0 + (xv - f->x_lo) / (f->x_hi - f->x_lo) * b.w;
            const double py = b.y0 + b.h - (y[i] - f->y_lo) / (f->y_hi - f->y_lo) * b.h;
            if (pen) cairo_line_to(cr, px, py);
            else cairo_move_to(cr, px, py);
            pen = 1;
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        for (int i = 0; i < l->n_points; i++) {
            const double xv = lines_x(l, i);
            if (!isfinite(y[i]) || !isfinite(xv)) continue;
            marker(cr, s, b.x0 + (xv - f->x_lo) / (f->x_hi - f->x_lo) * b.w,
                   b.y0 + b.h - (y[i] - f->y_lo) / (f->y_hi - f->y_lo) * b.h, r);
        }
        cairo_fill(cr);
    }
    cairo_restore(cr);
    draw_frame(cr, b);
    draw_axis_labels(cr, b, h, l->xlabel, l->ylabel);
    draw_legend(cr, b.x0 + b.w + 12, b.y0, lw, l->series_names, l->n_series, "series", KEY_LINE, 0);
    return SS_OK;
}

ss_status ss_figure_lines(const char *dir, const char *name, const ss_lines *l)
{
    ss_status st = check_common(dir, name, l, "line");
    if (st != SS_OK) return st;
    if (l->n_series < 1 || l->n_points < 1 || !l->x || !l->y)
        return ss_fail(SS_ERR_INPUT, "line chart %s: needs at least one series and one point, x and y (got %d series "
                       "of %d points%s%s)", name, l->n_series, l->n_points, l->x ? "" : ", no x", l->y ? "" : ", no y");
    if (!isfinite(l->ymin) || !isfinite(l->ymax) || l->ymax < l->ymin)
        return ss_fail(SS_ERR_INPUT, "line chart %s: y range [%g, %g] is not a range", name, l->ymin, l->ymax);
    lines_fig f = {.l = l};
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < l->n_points; i++) {
        if (l->log_x && !(l->x[i] > 0))
            return ss_fail(SS_ERR_INPUT, "line chart %s: x[%d] = %g on a log axis (x must be > 0)", name, i, l->x[i]);
        if (isfinite(l->x[i])) lo = fmin(lo, lines_x(l, i)), hi = fmax(hi, lines_x(l, i));
    }
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (lo == hi) lo -= 0.5, hi += 0.5;
    const double xpad = 0.03 * (hi - lo);
    f.x_lo = lo - xpad, f.x_hi = hi + xpad;
    if (l->ymin < l->ymax) {
        f.y_lo = l->ymin, f.y_hi = l->ymax;
    } else { /* auto from the finite values, 5% beyond them */
        lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < (size_t)l->n_series * l->n_points; i++)
            if (isfinite(l->y[i])) lo = fmin(lo, l->y[i]), hi = fmax(hi, l->y[i]);
        if (!(lo <= hi)) lo = 0, hi = 1;
        if (lo == hi) {
            const double pad = lo != 0 ? 0.05 * fabs(lo) : 0.5;
            lo -= pad, hi += pad;
        }
        f.y_lo = lo - 0.05 * (hi - lo), f.y_hi = hi + 0.05 * (hi - lo);
    }
    linear_ticks(f.y_lo, f.y_hi, 6, &f.yt);
    if (l->log_x) log_ticks(f.x_lo, f.x_hi, &f.xt);
    else linear_ticks(f.x_lo, f.x_hi, 8, &f.xt);
    return write_figure(dir, name, l->title, CHART_W, CHART_H, lines_draw, &f);
}

/* ------------------------------------------------------------------ bars */

typedef struct {
    const ss_bars *b;
    double y_lo, y_hi;
    ticks yt;
} bars_fig;

static ss_status bars_draw(cairo_t *cr, double w, double h, const void *fig)
{
    const bars_fig *f = fig;
    const ss_bars *bb = f->b;
    char buf[32];
    begin(cr, w, h);
    const double top = draw_title(cr, bb->title, w);
    const double lw = legend_width(cr, bb->bar_names, bb->n_bars, "bar");
    set_font(cr, FS_TICK, 0);
    const double left = PAD + (bb->ylabel && bb->ylabel[0] ? FS_LABEL + 8 : 0) + ticks_width(cr, &f->yt) + 4 + TICK_LEN;
    const double pw = w - left - lw - 12 - PAD, slot = pw / bb->n_groups;
    double gw = 0; /* widest group name: turned 90° when the names do not fit their slots */
    for (int g = 0; g < bb->n_groups; g++)
        gw = fmax(gw, text_width(cr, name_of(bb->group_names, g, "group", buf, sizeof buf), TICK_CHARS));
    const int rot = gw + 6 > slot;
    const double bottom = TICK_LEN + 4 + (rot ? fmin(gw, h / 3) : FS_TICK) + 8 + PAD +
                          (bb->xlabel && bb->xlabel[0] ? FS_LABEL + 6 : 0);
    const box b = {left, top, pw, h - top - bottom};
    const double y_of0 = b.y0 + b.h - (0 - f->y_lo) / (f->y_hi - f->y_lo) * b.h;

    draw_y_ticks(cr, b, &f->yt, f->y_lo, f->y_hi);
    cairo_set_line_width(cr, 0.8);
    for (int g = 0; g < bb->n_groups; g++) {
        const double *v = bb->values + (size_t)g * bb->n_bars; /* [n_bars] */
        const double cx = b.x0 + (g + 0.5) * slot;
        if (bb->stacked) { /* positives stack up from 0, negatives down */
            const double bw = 0.6 * slot;
            double up = 0, down = 0;
            for (int k = 0; k < bb->n_bars; k++) {
                if (!isfinite(v[k]) || v[k] == 0) continue;
                const double from = v[k] > 0 ? up : down, to = from + v[k];
                if (v[k] > 0) up = to;
                else down = to;
                const double y0 = b.y0 + b.h - (from - f->y_lo) / (f->y_hi - f->y_lo) * b.h;
                const double y1 = b.y0 + b.h - (to - f->y_lo) / (f->y_hi - f->y_lo) * b.h;
                cairo_rectangle(cr, cx - bw / 2, fmin(y0, y1), bw, fabs(y1 - y0));
                set_rgb(cr, category(k));
                cairo_fill_preserve(cr);
                set_rgb(cr, INK);
                cairo_stroke(cr);
            }
        } else {
            const double bw = 0.8 * slot / bb->n_bars;
            for (int k = 0; k < bb->n_bars; k++) {
                if (!isfinite(v[k])) continue; /* missing: no bar */
                const double x = cx - 0.4 * slot + k * bw;
                const double y = b.y0 + b.h - (v[k] - f->y_lo) / (f->y_hi - f->y_lo) * b.h;
                cairo_rectangle(cr, x, fmin(y, y_of0), bw, fabs(y_of0 - y));
                set_rgb(cr, category(k));
                cairo_fill_preserve(cr);
                set_rgb(cr, INK);
                cairo_stroke(cr);
            }
        }
        set_rgb(cr, INK);
        cairo_set_line_width(cr, 1);
        vline(cr, cx, b.y0 + b.h, b.y0 + b.h + TICK_LEN);
        const char *s = name_of(bb->group_names, g, "group", buf, sizeof buf);
        if (rot) draw_text(cr, s, TICK_CHARS, crisp(cx), b.y0 + b.h + TICK_LEN + 4, -PI_ / 2, AL_END, VA_MID);
        else draw_text(cr, s, TICK_CHARS, crisp(cx), b.y0 + b.h + TICK_LEN + 4, 0, AL_MID, VA_TOP);
        cairo_set_line_width(cr, 0.8);
    }
    set_rgb(cr, INK);
    cairo_set_line_width(cr, 1);
    if (f->y_lo < 0) hline(cr, b.x0, b.x0 + b.w, y_of0);
    draw_frame(cr, b);
    draw_axis_labels(cr, b, h, bb->xlabel, bb->ylabel);
    draw_legend(cr, b.x0 + b.w + 12, b.y0, lw, bb->bar_names, bb->n_bars, "bar", KEY_BOX, bb->stacked);
    return SS_OK;
}

ss_status ss_figure_bars(const char *dir, const char *name, const ss_bars *b)
{
    ss_status st = check_common(dir, name, b, "bar");
    if (st != SS_OK) return st;
    if (b->n_groups < 1 || b->n_bars < 1 || !b->values)
        return ss_fail(SS_ERR_INPUT, "bar chart %s: needs at least one group and one bar, and values (got %d x %d%s)",
                       name, b->n_groups, b->n_bars, b->values ? "" : ", no values");
    bars_fig f = {.b = b};
    double lo = 0, hi = 0; /* bars start at 0 */
    for (int g = 0; g < b->n_groups; g++) {
        double up = 0, down = 0;
        for (int k = 0; k < b->n_bars; k++) {
            const double v = b->values[(size_t)g * b->n_bars + k];
            if (!isfinite(v)) continue;
            if (b->stacked) {
                if (v > 0) up += v;
                else down += v;
            } else {
                up = fmax(up, v), down = fmin(down, v);
            }
        }
        lo = fmin(lo, down), hi = fmax(hi, up);
    }
    if (lo == hi) hi = 1;
    f.y_lo = lo < 0 ? lo - 0.05 * (hi - lo) : 0;
    f.y_hi = hi > 0 ? hi + 0.05 * (hi - lo) : 0;
    linear_ticks(f.y_lo, f.y_hi, 6, &f.yt);
    return write_figure(dir, name, b->title, CHART_W, CHART_H, bars_draw, &f);
}
