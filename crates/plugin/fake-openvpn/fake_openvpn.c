/* What the FFI tests need from C, because stable Rust cannot define a C-variadic function:
 * - fake_plugin_log: a real `plugin_log_t` that formats like OpenVPN and hands the line to
 *   the Rust test through duo_test_log_sink (defined in the test binary);
 * - fake_header_layout: offsets from the real openvpn-plugin.h, to check ffi.rs against. */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#ifdef HAVE_OPENVPN_HEADER
#include <openvpn/openvpn-plugin.h>
#endif

extern void duo_test_log_sink(int flags, const char *name, const char *line);

void fake_plugin_log(int flags, const char *name, const char *format, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, format);
    vsnprintf(line, sizeof line, format, ap);
    va_end(ap);
    duo_test_log_sink(flags, name, line);
}

/* -1 when the header is not installed. */
long fake_header_layout(int which)
{
#ifdef HAVE_OPENVPN_HEADER
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
        case 9: return (long) offsetof(struct openvpn_plugin_args_func_in, handle);
        case 10: return (long) offsetof(struct openvpn_plugin_args_func_in, current_cert);
        case 11: return (long) sizeof(struct openvpn_plugin_args_func_in);
        case 12: return (long) sizeof(struct openvpn_plugin_callbacks);
        case 13: return (long) OPENVPN_PLUGINv3_STRUCTVER;
        case 14: return (long) OPENVPN_PLUGIN_MASK(OPENVPN_PLUGIN_AUTH_USER_PASS_VERIFY);
        case 15: return (long) OPENVPN_PLUGIN_FUNC_DEFERRED;
        case 16: return (long) (PLOG_NOTE | PLOG_NOMUTE);
    }
#endif
    (void) which;
    return -1;
}
