/*
 * bench_lance21.c - full scan of a Lance table through the public API, every
 * column, as `resona scan` reads it (run by hand; run.sh compares it with
 * LanceDB's scan of the same table).
 *
 *   bench_lance21 TABLE DATA_BYTES
 *
 * Prints one JSON line: rows, seconds, decoded bytes, MB/s of DATA_BYTES (the
 * table's data files on disk, what both sides read), and peak RSS.
 */
#include <resona/table.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_lance21 TABLE DATA_BYTES\n");
        return 2;
    }
    double data_bytes = strtod(argv[2], NULL);
    double t0 = now();
    resona_table *t = NULL;
    resona_scan *s = NULL;
    if (resona_table_open(argv[1], NULL, &t) != 0 || resona_table_scan(t, NULL, &s) != 0) {
        fprintf(stderr, "bench_lance21: %s\n", resona_error_message());
        return 1;
    }
    const resona_chunk *ch;
    int rc;
    unsigned long long rows = 0;
    double decoded = 0, checksum = 0;
    while ((rc = resona_scan_next(s, &ch)) > 0) {
        rows += ch->rows;
        for (size_t c = 0; c < ch->column_count; c++) {
            const resona_column *col = &ch->columns[c];
            if (col->offsets) {
                decoded +=
                    (double)(col->offsets[ch->rows] - col->offsets[0]) + 8.0 * (double)ch->rows;
                if (ch->rows && col->values)
                    checksum += ((const unsigned char *)col->values)[0];
            } else if (col->values && ch->rows) {
                checksum += ((const unsigned char *)col->values)[0];
            }
        }
    }
    if (rc < 0) {
        fprintf(stderr, "bench_lance21: %s\n", resona_error_message());
        return 1;
    }
    double secs = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"reader\":\"resona\",\"rows\":%llu,\"seconds\":%.3f,\"mb_per_s\":%.1f,"
           "\"peak_rss_mb\":%.1f,\"string_bytes\":%.0f,\"checksum\":%.0f}\n",
           rows, secs, data_bytes / 1e6 / secs, (double)ru.ru_maxrss / 1024.0, decoded, checksum);
    resona_scan_free(s);
    resona_table_free(t);
    return 0;
}
