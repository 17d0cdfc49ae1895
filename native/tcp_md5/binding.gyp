# The tcp_sockopt addon: TCP-MD5 (RFC 2385) keys, GTSM (RFC 5082) TTLs and a bound socket for outgoing
# connections, for Linux. Plain C against Node-API, so no node-addon-api package is needed.
{
  "targets": [
    {
      "target_name": "tcp_sockopt",
      "sources": ["tcp_sockopt.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
