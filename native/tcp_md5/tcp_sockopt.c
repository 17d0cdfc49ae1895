/* The socket options Node has no API for: TCP_MD5SIG (RFC 2385) per peer address, IP_MINTTL /
 * IPV6_MINHOPCOUNT and the outgoing TTL (GTSM, RFC 5082), and a bound, unconnected TCP socket for
 * outgoing sessions so those options can be set before the SYN leaves. Linux only; errors carry errno. */
#define _GNU_SOURCE
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif

#define CHECK(call)                                                                \
  do {                                                                             \
    if ((call) != napi_ok) {                                                       \
      napi_throw_error(env, "EINVAL", "tcp_sockopt: bad arguments");               \
      return NULL;                                                                 \
    }                                                                              \
  } while (0)

/* Throws an Error whose message names the operation and the errno text, with .code = "E..." and .errno. */
static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value m, e, code, num;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  const char *name = err == EPERM ? "EPERM" : err == ENOPROTOOPT ? "ENOPROTOOPT" : err == EINVAL ? "EINVAL"
                   : err == ENOENT ? "ENOENT" : err == EBADF ? "EBADF" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL"
                   : err == ENOTSOCK ? "ENOTSOCK" : "ESYSCALL";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, e, "code", code);
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, e, "errno", num);
  napi_throw(env, e);
  return NULL;
}

static int get_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok ? 0 : -1;
}

/* Fills a sockaddr_storage from (family, text address, port); returns its length or 0 when it does not parse. */
static socklen_t make_addr(int family, const char *text, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, text, &a->sin_addr) != 1) return 0;
    return sizeof *a;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons((uint16_t)port);
  if (inet_pton(AF_INET6, text, &a->sin6_addr) != 1) return 0;
  return sizeof *a;
}

/* setMd5Key(fd, family, peerAddress, key): key "" removes the key for that address. */
static napi_value set_md5_key(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) CHECK(napi_invalid_arg);
  int32_t fd, family;
  char addr[64], key[TCP_MD5SIG_MAXKEYLEN + 2];
  size_t addrlen, keylen;
  if (get_int(env, argv[0], &fd) || get_int(env, argv[1], &family)) CHECK(napi_invalid_arg);
  CHECK(napi_get_value_string_utf8(env, argv[2], addr, sizeof addr, &addrlen));
  CHECK(napi_get_value_string_utf8(env, argv[3], key, sizeof key, &keylen));
  if (keylen > TCP_MD5SIG_MAXKEYLEN) return throw_errno(env, "TCP_MD5SIG: key longer than 80 octets", EINVAL);
  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  if (make_addr(family, addr, 0, &sig.tcpm_addr) == 0) return throw_errno(env, "TCP_MD5SIG: bad peer address", EINVAL);
  sig.tcpm_keylen = (uint16_t)keylen;
  memcpy(sig.tcpm_key, key, keylen);
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) != 0) {
    int err = errno;
    /* Removing a key that was never set is not an error for our callers. */
    if (keylen == 0 && err == ENOENT) return NULL;
    return throw_errno(env, "setsockopt(TCP_MD5SIG)", err);
  }
  return NULL;
}

/* (fd, family, value) from JS, then setsockopt of an int at the IPv4 or the IPv6 option by family. */
static napi_value set_int_by_family(napi_env env, napi_callback_info info, int opt4, const char *name4, int opt6, const char *name6) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, family, value;
  if (argc < 3 || get_int(env, argv[0], &fd) || get_int(env, argv[1], &family) || get_int(env, argv[2], &value)) CHECK(napi_invalid_arg);
  int v = value;
  int rc = family == 4 ? setsockopt(fd, IPPROTO_IP, opt4, &v, sizeof v) : setsockopt(fd, IPPROTO_IPV6, opt6, &v, sizeof v);
  if (rc != 0) return throw_errno(env, family == 4 ? name4 : name6, errno);
  return NULL;
}

/* setMinTtl(fd, family, ttl): drop segments that arrive with a smaller TTL / hop limit (0 = off). */
static napi_value set_min_ttl(napi_env env, napi_callback_info info) {
  return set_int_by_family(env, info, IP_MINTTL, "setsockopt(IP_MINTTL)", IPV6_MINHOPCOUNT, "setsockopt(IPV6_MINHOPCOUNT)");
}

/* setTtl(fd, family, ttl): the TTL / hop limit of the segments we send. */
static napi_value set_ttl(napi_env env, napi_callback_info info) {
  return set_int_by_family(env, info, IP_TTL, "setsockopt(IP_TTL)", IPV6_UNICAST_HOPS, "setsockopt(IPV6_UNICAST_HOPS)");
}

/* boundSocket(family, localAddress, localPort): a non-blocking, close-on-exec TCP socket bound to the
 * source address and not yet connected; its fd is handed to net.Socket({ fd }) which then connects. */
static napi_value bound_socket(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family, port;
  char addr[64];
  size_t addrlen;
  if (argc < 3 || get_int(env, argv[0], &family) || get_int(env, argv[2], &port)) CHECK(napi_invalid_arg);
  CHECK(napi_get_value_string_utf8(env, argv[1], addr, sizeof addr, &addrlen));
  struct sockaddr_storage ss;
  socklen_t len = make_addr(family, addr, port, &ss);
  if (len == 0) return throw_errno(env, "bind: bad local address", EINVAL);
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/* closeFd(fd): for a socket from boundSocket that was never handed to Node. */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || get_int(env, argv[0], &fd)) CHECK(napi_invalid_arg);
  close(fd);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"setMd5Key", NULL, set_md5_key, NULL, NULL, NULL, napi_default, NULL},
    {"setMinTtl", NULL, set_min_ttl, NULL, NULL, NULL, napi_default, NULL},
    {"setTtl", NULL, set_ttl, NULL, NULL, NULL, napi_default, NULL},
    {"boundSocket", NULL, bound_socket, NULL, NULL, NULL, napi_default, NULL},
    {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
