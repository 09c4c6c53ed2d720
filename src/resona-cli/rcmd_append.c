/* rcmd_append.c - placeholder until the command lands (exits 1 with a message). */
#include "rcli.h"

int rcmd_append(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    rcli_error("append: not implemented yet");
    return 1;
}
