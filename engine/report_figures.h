/* report_figures.h: the report's figures, drawn with cairo, each written as PNG and SVG (DIR/<name>.png,
 * DIR/<name>.svg). Axes are labelled, every figure has a title, and the palettes are colour-blind safe:
 * viridis for continuous values, Okabe–Ito for categories. The SVG carries the title as a <title> element (cairo
 * draws the text itself as outlines).
 *
 * Sizes: heatmaps and attention maps scale their cells to the data but keep to [480, 1600] pixels per side;
 * line and bar charts are 800 × 500. PNG at 1 px per unit, SVG in points with the same geometry.
 *
 * Text: labels and names are UTF-8 (invalid bytes and control characters are drawn as '?'); tick labels longer than
 * 20 characters, legend entries longer than 32 and titles longer than 120 end in "…". DIR must exist; existing files
 * are replaced. Errors: SS_ERR_INPUT for bad arguments (NULL pointers, sizes < 1, bad ranges), SS_ERR_IO naming the
 * file that cannot be written (a PNG already written stays when only the SVG fails), SS_ERR_NOMEM. */
#ifndef SS_REPORT_FIGURES_H
#define SS_REPORT_FIGURES_H

#include "status.h"

/* A matrix as a heatmap: values [rows][cols] (NaN drawn as light grey with a hatch, with a "NaN" key under the
 * colour bar), colour scale [vmin, vmax] (values outside take the end colours; vmin = vmax: the range of the finite
 * values) with a labelled colour bar; row 0 at the top. Tick labels are thinned to every 2nd, 5th, 10th, ... row or
 * column when they would overlap. Matrices of more than 65536 cells, or cells under 2 px, are drawn as one
 * scaled image (no hatch).
 * For the layer × head Sink_1 heatmap: rows = layers, cols = heads, values in percent. For an attention map:
 * rows = queries, cols = keys, row_labels = col_labels = the tokens as display strings. */
typedef struct {
    const char *title, *xlabel, *ylabel, *cbar_label;
    int rows, cols;
    const double *values; /* [rows][cols] */
    double vmin, vmax;
    const char *const *row_labels; /* [rows] or NULL: indices */
    const char *const *col_labels; /* [cols] or NULL: indices (rotated 90° when any is longer than 2 chars) */
} ss_heatmap;
ss_status ss_figure_heatmap(const char *dir, const char *name, const ss_heatmap *h);

/* Line chart: n_series curves over a shared x (x [n_points]); y [n_series][n_points] (NaN = gap); legend with the
 * series names (right of the plot; NULL names: "series 1", ...); y range [ymin, ymax] (ymin = ymax: auto from the
 * data; curves are clipped to the range). Markers on every point; series 9 on repeat the colours dashed. */
typedef struct {
    const char *title, *xlabel, *ylabel;
    int n_series, n_points;
    const double *x;                  /* [n_points] */
    const double *y;                  /* [n_series][n_points] */
    const char *const *series_names;  /* [n_series] */
    double ymin, ymax;
    int log_x;                        /* 1: x on a log scale (x > 0; emergence curves over training steps) */
} ss_lines;
ss_status ss_figure_lines(const char *dir, const char *name, const ss_lines *l);

/* Grouped bar chart: n_groups groups (e.g. models) of n_bars bars (e.g. frame types: centralized, distributed,
 * bidirectional, mixed, none), values [n_groups][n_bars] (NaN: no bar); stacked = 1 stacks the bars of a group into
 * one (positive values up from 0, negative ones down). y starts at 0. Group names are turned 90° when they do not
 * fit side by side; NULL names: "group 1", "bar 1", .... */
typedef struct {
    const char *title, *xlabel, *ylabel;
    int n_groups, n_bars, stacked;
    const double *values;              /* [n_groups][n_bars] */
    const char *const *group_names;    /* [n_groups] */
    const char *const *bar_names;      /* [n_bars] (legend) */
} ss_bars;
ss_status ss_figure_bars(const char *dir, const char *name, const ss_bars *b);

#endif
