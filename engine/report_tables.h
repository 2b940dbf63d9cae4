/* report_tables.h: publication tables, written as LaTeX (booktabs, one standalone-compilable file per table,
 * \input by a master file), Markdown and CSV (units in the header) from ONE formatted grid, so that the three
 * show the same rounded values.
 *
 * A table is a title, a caption, columns (a header and a unit each) and rows of cells. A cell is text, or a number
 * with an optional 95% half-width, rounded by the column's `digits` (decimal places) everywhere; missing values
 * (NaN) print as "--" in LaTeX and Markdown and as an empty field in CSV; a failed or missing cell can carry a note
 * marker ("†") explained in the caption: when any cell is marked and the caption does not mention "†", the writers
 * add "† marks values with failed or missing tasks." (CSV has no caption: a last column "marked (†)" lists the
 * headers of each row's marked cells, so that the numbers stay numbers). How text is escaped per format, and which
 * characters LaTeX shows as \texttt{<U+XXXX>}: report_tables.c. */
#ifndef SS_REPORT_TABLES_H
#define SS_REPORT_TABLES_H

#include <stdio.h>

#include "status.h"

typedef enum { SS_CELL_TEXT = 0, SS_CELL_NUM } ss_cell_kind;

typedef struct {
    ss_cell_kind kind;
    char text[96];   /* SS_CELL_TEXT (UTF-8; escaped for LaTeX by the writer) */
    double value;    /* SS_CELL_NUM; NaN = missing */
    double half;     /* 95% half-width, or NaN for none (printed as value only) */
    int marked;      /* 1: append the note marker */
} ss_cell;

typedef struct {
    char header[64]; /* e.g. "Sink_1^0.3" (plain text; LaTeX gets a math form when header_tex is set) */
    char header_tex[96]; /* optional LaTeX header, e.g. "$\\mathrm{Sink}_1^{0.3}$"; "" = escaped header */
    char unit[24];   /* e.g. "%", "nats", "" for none; CSV header "Sink_1^0.3 [%]" */
    int digits;      /* decimal places of numbers in this column */
    int align_left;  /* 1 for text columns */
} ss_column;

typedef struct {
    char name[64];     /* file stem: <name>.tex, <name>.md, <name>.csv; [A-Za-z0-9_-] (else SS_ERR_INPUT) */
    char title[160];
    char caption[1024]; /* plain text; escaped for LaTeX */
    int n_cols, n_rows;
    ss_column *cols;   /* [n_cols] */
    ss_cell *cells;    /* [n_rows][n_cols] */
} ss_table;

/* Allocates the columns (digits 2, right-aligned) and an all-missing grid (numbers, NaN). SS_ERR_INPUT for
 * n_cols < 1 or n_rows < 0, SS_ERR_NOMEM. Text is cut at a character boundary to fit the fields. */
ss_status ss_table_init(ss_table *t, const char *name, const char *title, int n_cols, int n_rows);
void ss_table_free(ss_table *t);
ss_cell *ss_table_cell(ss_table *t, int row, int col); /* NULL out of range */
void ss_cell_text(ss_cell *c, const char *text);
void ss_cell_num(ss_cell *c, double value, double half);

/* The one formatting rule every writer uses for a value and for its half-width: "%.*f" at the column's digits
 * (clamped to [0, 17]), "-0.00" written as "0.00", "inf"/"-inf" for ±inf (LaTeX: \infty), "" for NaN. The writers
 * join value and half-width as "v ± h" (Markdown), "$v \pm h$" (LaTeX) or two fields (CSV). */
void ss_format_number(double value, int digits, char *out, size_t cap);

/* Writers. dir must exist. tex: a standalone document (\documentclass{article}, booktabs) whose body is
 * also usable by \input from the master when the master defines \SSINMASTER (the preamble is skipped then).
 * CSV: one header line "col [unit]", numbers with their half-width in a separate "<col> ±95% [unit]" column when
 * the column has any. SS_ERR_IO with the path on failure (no partial file is left). */
ss_status ss_table_write_tex(const ss_table *t, const char *dir);
ss_status ss_table_write_md(const ss_table *t, const char *dir);
ss_status ss_table_write_csv(const ss_table *t, const char *dir);
/* DIR/report.tex: a master document that defines \SSINMASTER and \input's every table (names[n]) in order,
 * with a \clearpage after every 10 (LaTeX holds at most 18 pending floats). */
ss_status ss_tables_write_master(const char *dir, const char *title, const char *const *names, int n);

#endif
