/* rcmd_compact.c - placeholder until the command lands (exits 1 with a message). */
#include "rcli.h"

int rcmd_compact(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    rcli_error("compact: not implemented yet");
    return 1;
}
