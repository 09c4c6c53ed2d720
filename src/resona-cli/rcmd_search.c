/* rcmd_search.c - placeholder until the command lands (exits 1 with a message). */
#include "rcli.h"

int rcmd_search(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    rcli_error("search: not implemented yet");
    return 1;
}
