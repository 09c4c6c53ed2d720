/*
 * fuzz_lance_datafile.c - libFuzzer target: a Lance data file image through
 * the 2.0 reader: footer, offset tables, FileDescriptor, every column's
 * metadata and page plans (types taken from the file's own schema), then
 * every row read in small chunks. The image lives in a memfd so the reader's
 * pread path is the one exercised.
 */
#define _GNU_SOURCE
#include "lance/reader.h"
#include "lance/table_int.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-datafile", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    lance_file *f = NULL;
    if (resona__lfile_open(path, 0, &f) == 0) {
        Lf__Schema *sc = f->desc ? f->desc->schema : NULL;
        size_t col = 0;
        for (size_t i = 0; sc && i < sc->n_fields && col < f->ncols; i++) {
            Lt__Field *fl = sc->fields[i];
            if (fl->has_parent_id && fl->parent_id != -1)
                continue;
            uint32_t dim = 0;
            resona_type type = resona__lance_type(fl->logical_type, &dim);
            lance_column c;
            if (type != RESONA_TYPE_OTHER &&
                resona__lfile_column(f, (uint32_t)col, type, dim, &c) == 0) {
                lance_colbuf b = {0};
                size_t chunk = type == RESONA_TYPE_VECTOR ? 4 : 64;
                uint64_t limit = c.rows < 4096 ? c.rows : 4096;
                for (uint64_t r = 0; r < limit; r += chunk) {
                    size_t n = (size_t)(limit - r < chunk ? limit - r : chunk);
                    if (resona__colbuf_reset(&b, type, dim, n) < 0 ||
                        resona__lfile_read(f, &c, r, n, &b, 0) < 0)
                        break;
                }
                resona__colbuf_free(&b);
                resona__lfile_column_free(&c);
            }
            col++;
        }
        resona__lfile_close(f);
    }
    close(fd);
    return 0;
}
