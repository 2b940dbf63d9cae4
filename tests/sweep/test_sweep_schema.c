/* test_sweep_schema.c: schemas/sweep.schema.json (argv[1]) is valid JSON Schema 2020-12 text and describes the
 * keys the C parser accepts. The parser's keys are read from its own diagnostics: an unknown key far from every
 * valid one gets "...; valid keys are: a, b, c", and an empty mapping gets one "missing required key" per
 * required key. Compared: the top level, run, grid, a model, a prompt set, and every registered analysis type
 * the schema knows (its parameters and their defaults). */
#include "test_util.h"

#include <jansson.h> /* json_load_file, json_object_get */
#include <stddef.h>

#include "analysis.h"
#include "sweep.h"

#define MAX_KEYS 32
#define FAR_KEY "zzzzzzzzzzzzzzzzzzzz" /* at distance >= 12 from every valid key: never suggested */

typedef struct {
    char k[MAX_KEYS][64];
    int n;
} keyset;

static void keyset_add(keyset *s, const char *k, size_t len)
{
    if (s->n == MAX_KEYS || len >= sizeof s->k[0]) return;
    memcpy(s->k[s->n], k, len);
    s->k[s->n][len] = '\0';
    s->n++;
}

static int keyset_has(const keyset *s, const char *k)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->k[i], k)) return 1;
    return 0;
}

/* Equal as sets; prints both on a difference. */
static void check_same(const keyset *schema, const keyset *parser, const char *what)
{
    int same = schema->n == parser->n;
    for (int i = 0; same && i < schema->n; i++) same = keyset_has(parser, schema->k[i]);
    CHECK_MSG(same, "%s: the schema and the parser disagree", what);
    if (!same) {
        fprintf(stderr, "  schema:");
        for (int i = 0; i < schema->n; i++) fprintf(stderr, " %s", schema->k[i]);
        fprintf(stderr, "\n  parser:");
        for (int i = 0; i < parser->n; i++) fprintf(stderr, " %s", parser->k[i]);
        fprintf(stderr, "\n");
    }
}

static void schema_props(json_t *obj, keyset *out)
{
    const char *k;
    json_t *v;
    out->n = 0;
    json_t *props = json_object_get(obj, "properties");
    CHECK_MSG(json_is_object(props), "no 'properties' object");
    json_object_foreach(props, k, v) keyset_add(out, k, strlen(k));
}

static void schema_required(json_t *obj, keyset *out)
{
    size_t i;
    json_t *v;
    out->n = 0;
    json_array_foreach(json_object_get(obj, "required"), i, v)
        if (json_is_string(v)) keyset_add(out, json_string_value(v), strlen(json_string_value(v)));
}

/* Runs the parser on `text` and collects, from its diagnostics, the valid keys it lists (mode 0) or the
 * required keys it says are missing (mode 1) in the mapping called `where`. */
static void parser_keys(const char *text, const char *where, int mode, keyset *out)
{
    ss_diags d = {0};
    ss_sweep *s = NULL;
    char marker[128];
    out->n = 0;
    CHECK(ss_sweep_parse(text, strlen(text), NULL, &s, &d) == SS_ERR_INPUT);
    ss_sweep_free(s);
    for (int i = 0; i < d.n; i++) {
        const char *m = d.items[i].msg;
        if (mode == 0) {
            snprintf(marker, sizeof marker, "unknown key '" FAR_KEY "' in %s; valid keys are: ", where);
            if (strncmp(m, marker, strlen(marker)) != 0) continue;
            for (const char *p = m + strlen(marker); *p;) {
                size_t len = strcspn(p, ",");
                keyset_add(out, p, len);
                p += len;
                while (*p == ',' || *p == ' ') p++;
            }
        } else {
            const char *pre = "missing required key '";
            snprintf(marker, sizeof marker, "' in %s", where);
            if (strncmp(m, pre, strlen(pre)) != 0) continue;
            const char *k = m + strlen(pre), *end = strchr(k, '\'');
            if (end && !strcmp(end, marker)) keyset_add(out, k, (size_t)(end - k));
        }
    }
    CHECK_MSG(out->n > 0, "no keys found in the parser's diagnostics for %s", where);
    ss_diags_free(&d);
}

static json_t *path_get(json_t *root, const char *a, const char *b)
{
    json_t *v = json_object_get(root, a);
    if (b) v = json_object_get(v, b);
    CHECK_MSG(json_is_object(v), "schema: no object at %s/%s", a, b ? b : "");
    return v;
}

/* For an analysis type: the schema's "then" properties of the allOf entry whose "if" is type == `type`. */
static json_t *analysis_then_props(json_t *analysis, const char *type)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(analysis, "allOf"), i, e)
    {
        json_t *c = json_object_get(json_object_get(json_object_get(json_object_get(e, "if"), "properties"), "type"),
                                    "const");
        if (json_is_string(c) && !strcmp(json_string_value(c), type))
            return json_object_get(json_object_get(e, "then"), "properties");
    }
    return NULL;
}

/* The parser's default of one parameter (from a sweep that does not set it) equals the schema's "default". */
static void check_default(const char *type, const ss_param_decl *decl, json_t *def)
{
    char text[512];
    ss_diags d = {0};
    ss_sweep *s = NULL;
    /* A complete sweep (the model path "." exists: the current directory) that does not set the parameter. */
    snprintf(text, sizeof text,
             "name: t\ngrid:\n  model: [{name: m, path: .}]\n  prompts: [{name: n, generator: natural}]\n"
             "  encoding: [native]\nanalyses: [{name: a, type: %s}]\n",
             type);
    CHECK(ss_sweep_parse(text, strlen(text), NULL, &s, &d) == SS_OK);
    ss_diags_print(&d, "<default test>", stderr);
    ss_diags_free(&d);
    if (!s) return;
    const ss_param_value *v = ss_analysis_param(&s->analyses[0], decl->name);
    CHECK_MSG(v != NULL, "%s.%s: no value", type, decl->name);
    CHECK_MSG(def != NULL, "%s.%s: no default in the schema", type, decl->name);
    if (v && def) {
        switch (v->type) {
        case SS_PARAM_INT:
        case SS_PARAM_FLOAT:
            CHECK_MSG(json_is_number(def) && json_number_value(def) == v->num, "%s.%s: default %g in C", type,
                      decl->name, v->num);
            break;
        case SS_PARAM_FLOAT_LIST:
            CHECK_MSG(json_is_array(def) && (int)json_array_size(def) == v->n_list, "%s.%s: default list size", type,
                      decl->name);
            for (int i = 0; json_is_array(def) && i < v->n_list && i < (int)json_array_size(def); i++)
                CHECK_NEAR(json_number_value(json_array_get(def, (size_t)i)), v->list[i], 0);
            break;
        case SS_PARAM_STRING:
            CHECK_MSG(json_is_string(def) && !strcmp(json_string_value(def), v->str), "%s.%s: default '%s' in C", type,
                      decl->name, v->str);
            break;
        }
    }
    ss_sweep_free(s);
}

int main(int argc, char **argv)
{
    json_error_t jerr;
    keyset a, b;
    if (argc < 2) SKIP("usage: test_sweep_schema SCHEMA.json");
    json_t *root = json_load_file(argv[1], 0, &jerr);
    CHECK_MSG(root != NULL, "%s:%d:%d: %s", argv[1], jerr.line, jerr.column, jerr.text);
    if (!root) TEST_END();
    CHECK(json_is_object(root));
    CHECK_STREQ(json_string_value(json_object_get(root, "$schema")), "https://json-schema.org/draft/2020-12/schema");
    CHECK_STREQ(json_string_value(json_object_get(root, "type")), "object");
    CHECK(json_is_false(json_object_get(root, "additionalProperties")));
    json_t *defs = json_object_get(root, "$defs");
    CHECK(json_is_object(defs));

    /* The top level: every key, and the required ones. */
    schema_props(root, &a);
    parser_keys(FAR_KEY ": 1\n", "the sweep", 0, &b);
    check_same(&a, &b, "top-level keys");
    schema_required(root, &a);
    parser_keys("{}\n", "the sweep", 1, &b);
    check_same(&a, &b, "top-level required keys");

    schema_props(path_get(defs, "run", NULL), &a);
    parser_keys("run: {" FAR_KEY ": 1}\n", "run", 0, &b);
    check_same(&a, &b, "run keys");

    /* frames: every key, and each default equals the parser's */
    schema_props(path_get(defs, "frames", NULL), &a);
    parser_keys("frames: {" FAR_KEY ": 1}\n", "frames", 0, &b);
    check_same(&a, &b, "frames keys");
    {
        ss_frames_params fp;
        ss_frames_params_default(&fp);
        json_t *fprops = json_object_get(path_get(defs, "frames", NULL), "properties");
        const double want[] = {fp.theta_c, fp.phi,         fp.theta_b,   fp.theta_d,
                               fp.skip_layers, fp.bootstrap, (double)fp.seed};
        const char *keys[] = {"theta_c", "phi", "theta_b", "theta_d", "skip_layers", "bootstrap", "seed"};
        for (int i = 0; i < 7; i++) {
            json_t *k = json_object_get(fprops, keys[i]);
            json_t *def = json_object_get(k, "default");
            CHECK_MSG(json_is_number(def) && json_number_value(def) == want[i], "frames.%s: default %g in C", keys[i],
                      want[i]);
            double lo, hi;
            if (i < 6 && ss_frames_param_range(keys[i], &lo, &hi) == 0)
                CHECK_MSG(json_number_value(json_object_get(k, "minimum")) == lo &&
                              json_number_value(json_object_get(k, "maximum")) == hi,
                          "frames.%s: range [%g, %g] in C", keys[i], lo, hi);
        }
    }

    schema_props(path_get(defs, "grid", NULL), &a);
    parser_keys("grid: {" FAR_KEY ": 1}\n", "grid", 0, &b);
    check_same(&a, &b, "grid keys");
    schema_required(path_get(defs, "grid", NULL), &a);
    parser_keys("grid: {}\n", "grid", 1, &b);
    check_same(&a, &b, "grid required keys");

    schema_props(path_get(defs, "model", NULL), &a);
    parser_keys("grid: {model: [{" FAR_KEY ": 1}]}\n", "grid.model[0]", 0, &b);
    check_same(&a, &b, "model keys");
    schema_required(path_get(defs, "model", NULL), &a);
    parser_keys("grid: {model: [{}]}\n", "grid.model[0]", 1, &b);
    check_same(&a, &b, "model required keys");

    schema_props(path_get(defs, "prompt_set", NULL), &a);
    parser_keys("grid: {prompts: [{" FAR_KEY ": 1}]}\n", "grid.prompts[0]", 0, &b);
    check_same(&a, &b, "prompt set keys");

    /* encodings written as a mapping: every key, and the required one */
    json_t *enc_map = json_array_get(json_object_get(path_get(defs, "encoding", NULL), "oneOf"), 1);
    schema_props(enc_map, &a);
    parser_keys("grid: {encoding: [{type: none, " FAR_KEY ": 1}]}\n", "grid.encoding[0]", 0, &b);
    check_same(&a, &b, "encoding keys");
    schema_required(enc_map, &a);
    parser_keys("grid: {encoding: [{}]}\n", "grid.encoding[0]", 1, &b);
    check_same(&a, &b, "encoding required keys");
    /* and the type names */
    json_t *enc_types = json_object_get(path_get(defs, "encoding_type", NULL), "enum");
    CHECK(json_is_array(enc_types) && json_array_size(enc_types) == 6);
    for (size_t i = 0; json_is_array(enc_types) && i < json_array_size(enc_types); i++)
        CHECK_STREQ(json_string_value(json_array_get(enc_types, i)), ss_encoding_type_name((ss_encoding_type)i));

    /* The W&B-like axis form: only 'values'. */
    json_t *alt = json_array_get(json_object_get(path_get(defs, "model_axis", NULL), "oneOf"), 1);
    schema_props(alt, &a);
    parser_keys("grid: {model: {values: [], " FAR_KEY ": 1}}\n", "grid.model", 0, &b);
    check_same(&a, &b, "{values: [...]} keys");

    /* Each analysis type the schema describes: name, type and the type's declared parameters. */
    json_t *analysis = path_get(defs, "analysis", NULL);
    const ss_analysis_type *const *reg = ss_analysis_all(); /* every registered type must be described */
    for (size_t t = 0; reg[t]; t++) {
        char text[256], where[64];
        const ss_analysis_type *at = reg[t];
        json_t *then = analysis_then_props(analysis, reg[t]->type);
        CHECK_MSG(then != NULL, "the schema has no parameters for %s", reg[t]->type);
        if (!then) continue;
        schema_props(analysis, &a);
        const char *k;
        json_t *v;
        json_object_foreach(then, k, v) keyset_add(&a, k, strlen(k));
        snprintf(text, sizeof text, "analyses: [{type: %s, " FAR_KEY ": 1}]\n", reg[t]->type);
        snprintf(where, sizeof where, "analyses[0]");
        parser_keys(text, where, 0, &b);
        check_same(&a, &b, reg[t]->type);
        for (int i = 0; i < at->n_params; i++)
            check_default(reg[t]->type, &at->params[i], json_object_get(json_object_get(then, at->params[i].name), "default"));
    }
    json_decref(root);
    TEST_END();
}
