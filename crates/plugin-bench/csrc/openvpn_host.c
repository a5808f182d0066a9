/* The C half of the harness: what stable Rust cannot write, and what must be C to be exact.
 *
 * 1. OpenVPN's plugin callbacks (`struct openvpn_plugin_callbacks`): plugin_log is C-variadic.
 *    Lines are formatted as OpenVPN formats them ("PLUGIN <name>: ...") and written, one
 *    write(2) each, to a log file, as OpenVPN's msg() does; they are also counted by level.
 * 2. Counters of what the loaded plugin creates, by interposition: the executable exports
 *    fork, vfork, posix_spawn(p), system, popen, pthread_create and connect (build.rs passes
 *    --export-dynamic-symbol), so a dlopen'ed plugin's calls resolve here first, are counted,
 *    and go on to glibc's. (A raw clone(2) or syscall(SYS_clone) is not seen.)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---- the callbacks table, laid out as openvpn-plugin.h (structver 5) ---- */

typedef void (*bench_log_t)(int flags, const char *name, const char *format, ...);
typedef void (*bench_vlog_t)(int flags, const char *name, const char *format, va_list ap);

struct bench_callbacks
{
    bench_log_t plugin_log;
    bench_vlog_t plugin_vlog;
    void (*plugin_secure_memzero)(void *data, size_t len);
    int (*plugin_base64_encode)(const void *data, int size, char **str);
    int (*plugin_base64_decode)(const char *str, void *data, int size);
};

#ifdef HAVE_OPENVPN_HEADER
#include <openvpn/openvpn-plugin.h>
_Static_assert(sizeof(struct bench_callbacks) == sizeof(struct openvpn_plugin_callbacks),
               "callbacks size");
_Static_assert(offsetof(struct bench_callbacks, plugin_base64_decode)
                   == offsetof(struct openvpn_plugin_callbacks, plugin_base64_decode),
               "callbacks layout");
/* The Rust structs (src/abi.rs) are checked against these values in a unit test. */
long bench_header_layout(int which)
{
    switch (which)
    {
        case 0: return (long) offsetof(struct openvpn_plugin_args_open_in, argv);
        case 1: return (long) offsetof(struct openvpn_plugin_args_open_in, callbacks);
        case 2: return (long) offsetof(struct openvpn_plugin_args_open_in, ssl_api);
        case 3: return (long) offsetof(struct openvpn_plugin_args_open_in, ovpn_version);
        case 4: return (long) offsetof(struct openvpn_plugin_args_open_in, ovpn_version_patch);
        case 5: return (long) sizeof(struct openvpn_plugin_args_open_in);
        case 6: return (long) offsetof(struct openvpn_plugin_args_open_return, handle);
        case 7: return (long) sizeof(struct openvpn_plugin_args_open_return);
        case 8: return (long) offsetof(struct openvpn_plugin_args_func_in, envp);
        case 9: return (long) offsetof(struct openvpn_plugin_args_func_in, per_client_context);
        case 10: return (long) offsetof(struct openvpn_plugin_args_func_in, current_cert);
        case 11: return (long) sizeof(struct openvpn_plugin_args_func_in);
        case 12: return (long) OPENVPN_PLUGINv3_STRUCTVER;
        case 13: return (long) OPENVPN_PLUGIN_N;
    }
    return -1;
}
#else
long bench_header_layout(int which)
{
    (void) which;
    return -1;
}
#endif

static int log_fd = -1;
static atomic_ulong log_lines;
static atomic_ulong log_errors;
static atomic_ulong log_warnings;

/* Open (append) the file plugin lines go to; NULL or "" drops them (still counted). */
int bench_log_open(const char *path)
{
    if (!path || !*path)
        return 0;
    log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    return log_fd < 0 ? -1 : 0;
}

unsigned long bench_log_lines(void) { return atomic_load(&log_lines); }
unsigned long bench_log_errors(void) { return atomic_load(&log_errors); }
unsigned long bench_log_warnings(void) { return atomic_load(&log_warnings); }

static void bench_plugin_vlog(int flags, const char *name, const char *format, va_list ap)
{
    /* OpenVPN (plugin.c, plugin_vlog): no format or no name: nothing is logged. */
    if (!format || !name || !*name)
        return;
    atomic_fetch_add(&log_lines, 1);
    if (flags & 1)
        atomic_fetch_add(&log_errors, 1);
    else if (flags & 2)
        atomic_fetch_add(&log_warnings, 1);
    if (log_fd < 0)
        return;
    char line[1400]; /* OpenVPN's ERR_BUF_SIZE is 1280 */
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    int n = (int) strftime(line, 64, "%Y-%m-%d %H:%M:%S ", &tm);
    n += snprintf(line + n, sizeof line - n, "PLUGIN %s: ", name);
    if (n < (int) sizeof line)
        n += vsnprintf(line + n, sizeof line - n, format, ap);
    if (n > (int) sizeof line - 2)
        n = (int) sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(log_fd, line, (size_t) n);
    (void) w;
}

static void bench_plugin_log(int flags, const char *name, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    bench_plugin_vlog(flags, name, format, ap);
    va_end(ap);
}

static void bench_secure_memzero(void *data, size_t len)
{
    volatile unsigned char *p = data;
    while (len--)
        *p++ = 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* openvpn_base64_encode: malloc'ed, NUL-terminated; returns its length or -1. */
static int bench_base64_encode(const void *data, int size, char **str)
{
    const unsigned char *in = data;
    if (size < 0 || size > (1 << 28))
        return -1;
    char *out = malloc((size_t) (size + 2) / 3 * 4 + 1);
    if (!out)
        return -1;
    int o = 0;
    for (int i = 0; i < size; i += 3)
    {
        unsigned v = in[i] << 16;
        if (i + 1 < size)
            v |= in[i + 1] << 8;
        if (i + 2 < size)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < size ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < size ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    *str = out;
    return o;
}

/* openvpn_base64_decode: into data (at most size bytes, or unbounded if size <= 0). */
static int bench_base64_decode(const char *str, void *data, int size)
{
    unsigned char *out = data;
    int o = 0, bits = 0;
    unsigned acc = 0;
    for (const char *p = str; *p && *p != '='; p++)
    {
        const char *c = memchr(b64, *p, 64);
        if (!c)
            return -1;
        acc = (acc << 6) | (unsigned) (c - b64);
        bits += 6;
        if (bits >= 8)
        {
            bits -= 8;
            if (size > 0 && o >= size)
                return -1;
            out[o++] = (unsigned char) (acc >> bits);
        }
    }
    return o;
}

static const struct bench_callbacks callbacks = {
    bench_plugin_log, bench_plugin_vlog, bench_secure_memzero, bench_base64_encode,
    bench_base64_decode,
};

const void *bench_callbacks_ptr(void) { return &callbacks; }

/* ---- counting interposers ---- */

/* In a MAP_SHARED page, so that a fork made by a forked child of ours (the double fork of
 * OpenVPN's sample plugins) is counted too. A program exec'ed by a descendant is counted when
 * its process is created; what it creates after exec is not. */
struct counters
{
    atomic_ulong processes;
    atomic_ulong threads;
    atomic_ulong connects;
};
static struct counters fallback_counters;
static struct counters *counters = &fallback_counters;

unsigned long bench_processes_created(void) { return atomic_load(&counters->processes); }
unsigned long bench_threads_created(void) { return atomic_load(&counters->threads); }
unsigned long bench_inet_connects(void) { return atomic_load(&counters->connects); }

static pid_t (*real_fork)(void);
static int (*real_posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                               const posix_spawnattr_t *, char *const[], char *const[]);
static int (*real_posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                                const posix_spawnattr_t *, char *const[], char *const[]);
static int (*real_system)(const char *);
static FILE *(*real_popen)(const char *, const char *);
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                  void *);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);

static void *next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f)
    {
        static const char msg[] = "plugin-bench: cannot find the real function behind an "
                                  "interposer\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void) w;
        abort();
    }
    return f;
}

__attribute__((constructor)) static void bench_resolve(void)
{
    void *page = mmap(NULL, sizeof(struct counters), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED)
        counters = page;
    real_fork = next("fork");
    real_posix_spawn = next("posix_spawn");
    real_posix_spawnp = next("posix_spawnp");
    real_system = next("system");
    real_popen = next("popen");
    real_pthread_create = next("pthread_create");
    real_connect = next("connect");
}

pid_t fork(void)
{
    atomic_fetch_add(&counters->processes, 1);
    return real_fork();
}

/* A vfork wrapper cannot return into its caller's frame safely: count it and fork. */
pid_t vfork(void)
{
    atomic_fetch_add(&counters->processes, 1);
    return real_fork();
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    atomic_fetch_add(&counters->processes, 1);
    return real_posix_spawn(pid, path, fa, attr, argv, envp);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    atomic_fetch_add(&counters->processes, 1);
    return real_posix_spawnp(pid, file, fa, attr, argv, envp);
}

int system(const char *command)
{
    if (command)
        atomic_fetch_add(&counters->processes, 1);
    return real_system(command);
}

FILE *popen(const char *command, const char *type)
{
    atomic_fetch_add(&counters->processes, 1);
    return real_popen(command, type);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                   void *arg)
{
    atomic_fetch_add(&counters->threads, 1);
    return real_pthread_create(thread, attr, start, arg);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int type = 0;
    socklen_t tl = sizeof type;
    if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)
        && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM)
        atomic_fetch_add(&counters->connects, 1);
    return real_connect(fd, addr, len);
}
