/* h5attr.h: HDF5 attributes (and whole-dataset reads) as sinkscope writes and reads them (results.c, frames_io.c): scalar fixed-length
 * strings (NUL-terminated), scalar int64 and float64, and 1-D float64 arrays (a null dataspace when empty).
 * Writers return the HDF5 status (< 0 on failure); readers return -1 when the attribute is absent or of
 * another kind. */
#ifndef SS_H5ATTR_H
#define SS_H5ATTR_H

#include <hdf5.h>
#include <stddef.h>

herr_t ss_h5_put_str(hid_t obj, const char *name, const char *value);
herr_t ss_h5_put_int(hid_t obj, const char *name, long long v);
herr_t ss_h5_put_double(hid_t obj, const char *name, double v);
herr_t ss_h5_put_doubles(hid_t obj, const char *name, const double *v, int n);

/* out [cap] (always terminated, "" when absent). */
int ss_h5_get_str(hid_t obj, const char *name, char *out, size_t cap);
/* The value, or dflt when absent or unreadable. */
long long ss_h5_get_int(hid_t obj, const char *name, long long dflt);
/* Into out [cap]: the count (0 for a null dataspace), -1 when absent or longer than cap. */
int ss_h5_get_doubles(hid_t obj, const char *name, double *out, int cap);

/* A whole numeric dataset `name` under loc, read as `mem` (element size elem) into a new buffer (caller frees);
 * dims [want_rank] gets its shape. NULL when it is missing, of another rank, or unreadable. */
void *ss_h5_read_all(hid_t loc, const char *name, hid_t mem, size_t elem, int want_rank, hsize_t *dims);

#endif
