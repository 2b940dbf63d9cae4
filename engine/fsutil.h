/* fsutil.h: small file-system helpers shared by the loaders. */
#ifndef SS_FSUTIL_H
#define SS_FSUTIL_H

/* "dir/name", malloc'd; NULL when out of memory. */
char *ss_path_join(const char *dir, const char *name);

#endif
