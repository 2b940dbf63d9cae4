/* h5attr.c: HDF5 attribute helpers (h5attr.h). */
#include "h5attr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

herr_t ss_h5_put_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(value) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, t, value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return e;
}

herr_t ss_h5_put_int(hid_t obj, const char *name, long long v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_LLONG, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return e;
}

herr_t ss_h5_put_double(hid_t obj, const char *name, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return e;
}

herr_t ss_h5_put_doubles(hid_t obj, const char *name, const double *v, int n)
{
    hsize_t d = (hsize_t)(n > 0 ? n : 1);
    hid_t sp = n > 0 ? H5Screate_simple(1, &d, NULL) : H5Screate(H5S_NULL);
    hid_t a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : (n > 0 ? H5Awrite(a, H5T_NATIVE_DOUBLE, v) : 0);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return e;
}

int ss_h5_get_str(hid_t obj, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a);
    int rc = -1;
    if (H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft)) {
        size_t sz = H5Tget_size(ft);
        char *buf = calloc(1, sz + 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz);
        if (buf && H5Aread(a, mt, buf) >= 0) {
            snprintf(out, cap, "%s", buf);
            rc = 0;
        }
        H5Tclose(mt);
        free(buf);
    }
    H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

long long ss_h5_get_int(hid_t obj, const char *name, long long dflt)
{
    long long v = dflt;
    if (H5Aexists(obj, name) <= 0) return dflt;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_LLONG, &v) < 0) v = dflt;
    if (a >= 0) H5Aclose(a);
    return v;
}

int ss_h5_get_doubles(hid_t obj, const char *name, double *out, int cap)
{
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t sp = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    int rc = -1;
    if (H5Sget_simple_extent_type(sp) == H5S_NULL) rc = 0;
    else if (n >= 0 && n <= cap && H5Aread(a, H5T_NATIVE_DOUBLE, out) >= 0) rc = (int)n;
    H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

void *ss_h5_read_all(hid_t loc, const char *name, hid_t mem, size_t elem, int want_rank, hsize_t *dims)
{
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return NULL;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return NULL;
    hid_t sp = H5Dget_space(d);
    void *buf = NULL;
    if (H5Sget_simple_extent_ndims(sp) == want_rank) {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        size_t n = 1;
        for (int i = 0; i < want_rank; i++) n *= (size_t)dims[i];
        buf = malloc((n ? n : 1) * elem);
        if (buf && n && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            free(buf);
            buf = NULL;
        }
    }
    H5Sclose(sp);
    H5Dclose(d);
    return buf;
}
