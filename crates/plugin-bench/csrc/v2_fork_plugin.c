/* A plugin of the older shape, for the harness's v2 ABI path and as a point of comparison:
 * openvpn_plugin_open_v2 / openvpn_plugin_func_v2 / openvpn_plugin_close_v1, deferring
 * AUTH_USER_PASS_VERIFY the way OpenVPN's sample `defer/multi-auth.c` and the upstream Duo
 * plugin (duo_openvpn.c) do: a double fork per login. The parent reaps the first child and
 * returns DEFERRED; the grandchild does the work and writes the control file.
 *
 *   plugin libv2_fork_plugin.so DELAY_MS                  grandchild sleeps, then writes '1'
 *   plugin libv2_fork_plugin.so DELAY_MS PROGRAM [ARG...] grandchild execs PROGRAM with the
 *                                                         login's environment (as upstream
 *                                                         execs its Python helper); PROGRAM
 *                                                         writes the control file itself
 *
 * It never talks to Duo: it is a lower bound of what a process per login costs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct openvpn_plugin_string_list;

#define AUTH_USER_PASS_VERIFY 5
#define FUNC_SUCCESS 0
#define FUNC_ERROR 1
#define FUNC_DEFERRED 2

struct context
{
    long delay_ms;
    char **program; /* NULL-terminated argv, or NULL */
};

static const char *get_env(const char *name, const char *envp[])
{
    size_t len = strlen(name);
    for (int i = 0; envp && envp[i]; i++)
        if (!strncmp(envp[i], name, len) && envp[i][len] == '=')
            return envp[i] + len + 1;
    return NULL;
}

void *openvpn_plugin_open_v2(unsigned int *type_mask, const char *argv[], const char *envp[],
                             struct openvpn_plugin_string_list **return_list)
{
    (void) envp;
    (void) return_list;
    if (!argv || !argv[0] || !argv[1])
        return NULL;
    struct context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->delay_ms = strtol(argv[1], NULL, 10);
    int n = 0;
    while (argv[2 + n])
        n++;
    if (n > 0)
    {
        ctx->program = calloc((size_t) n + 1, sizeof(char *));
        for (int i = 0; i < n; i++)
            ctx->program[i] = strdup(argv[2 + i]);
    }
    *type_mask = 1u << AUTH_USER_PASS_VERIFY;
    return ctx;
}

int openvpn_plugin_func_v2(void *handle, const int type, const char *argv[], const char *envp[],
                           void *per_client_context,
                           struct openvpn_plugin_string_list **return_list)
{
    (void) argv;
    (void) per_client_context;
    (void) return_list;
    struct context *ctx = handle;
    if (type != AUTH_USER_PASS_VERIFY)
        return FUNC_ERROR;
    const char *acf = get_env("auth_control_file", envp);
    if (!acf)
        return FUNC_ERROR;
    pid_t pid = fork();
    if (pid < 0)
        return FUNC_ERROR;
    if (pid == 0)
    {
        /* child: fork the worker and leave at once, so OpenVPN reaps us right away */
        if (fork() != 0)
            _exit(0);
        /* grandchild: async-signal-safe calls only until exec or _exit */
        if (ctx->program)
        {
            execve(ctx->program[0], ctx->program, (char *const *) envp);
            _exit(127);
        }
        struct timespec ts = {ctx->delay_ms / 1000, (ctx->delay_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        int fd = open(acf, O_WRONLY | O_CLOEXEC);
        if (fd >= 0)
        {
            ssize_t w = write(fd, "1", 1);
            (void) w;
            close(fd);
        }
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return FUNC_DEFERRED;
}

void openvpn_plugin_close_v1(void *handle)
{
    struct context *ctx = handle;
    if (ctx && ctx->program)
    {
        for (int i = 0; ctx->program[i]; i++)
            free(ctx->program[i]);
        free(ctx->program);
    }
    free(ctx);
}
