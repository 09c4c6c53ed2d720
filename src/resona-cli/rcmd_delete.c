/* rcmd_delete.c - placeholder until the command lands (exits 1 with a message). */
#include "rcli.h"

int rcmd_delete(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    rcli_error("delete: not implemented yet");
    return 1;
}
