/* ts_wire: one protobuf-c Envelope per ZeroMQ message, with the routing frame on ROUTER sockets. */
#include "lib/ts_wire.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int ts_wire_send(void *sock, const void *rid, size_t rid_len, const Tessera__Envelope *env, bool block)
{
    int flags = block ? 0 : ZMQ_DONTWAIT;
    size_t len = tessera__envelope__get_packed_size(env);
    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, len) != 0)
        return ts_error_set("cannot allocate a %zu-byte message", len);
    tessera__envelope__pack(env, zmq_msg_data(&msg));
    if (rid && zmq_send(sock, rid, rid_len, ZMQ_SNDMORE | flags) < 0) {
        zmq_msg_close(&msg);
        return ts_error_set("send routing frame: %s", zmq_strerror(errno));
    }
    if (zmq_msg_send(&msg, sock, flags) < 0) {
        zmq_msg_close(&msg);
        return ts_error_set("send: %s", zmq_strerror(errno));
    }
    return 0;
}

Tessera__Envelope *ts_wire_decode(const void *data, size_t len)
{
    Tessera__Envelope *env = tessera__envelope__unpack(NULL, len, data);
    if (!env) {
        ts_error_set("malformed message (%zu bytes): not a tessera Envelope", len);
        return NULL;
    }
    if (env->body_case == TESSERA__ENVELOPE__BODY__NOT_SET) {
        tessera__envelope__free_unpacked(env, NULL);
        ts_error_set("message without a body (unknown type from a newer peer?)");
        return NULL;
    }
    return env;
}

static void drain(void *sock)
{
    int more = 1;
    size_t sz = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, sock, 0);
        zmq_msg_close(&m);
    }
}

Tessera__Envelope *ts_wire_recv(void *sock, bool dontwait, char *rid, size_t *rid_len, bool *again)
{
    return ts_wire_recv_from(sock, dontwait, rid, rid_len, NULL, 0, again);
}

Tessera__Envelope *ts_wire_recv_from(void *sock, bool dontwait, char *rid, size_t *rid_len, char *peer_ip,
                                     size_t peer_cap, bool *again)
{
    if (peer_ip && peer_cap)
        peer_ip[0] = '\0';
    *again = false;
    int flags = dontwait ? ZMQ_DONTWAIT : 0;
    if (rid) {
        int n = zmq_recv(sock, rid, TS_WIRE_RID_MAX, flags);
        if (n < 0) {
            *again = errno == EAGAIN;
            ts_error_set("recv: %s", zmq_strerror(errno));
            return NULL;
        }
        *rid_len = (size_t)n > TS_WIRE_RID_MAX ? TS_WIRE_RID_MAX : (size_t)n;
        int more = 0;
        size_t sz = sizeof more;
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
        if (!more) {
            ts_error_set("message without a payload frame");
            return NULL;
        }
        flags = 0;
    }
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, sock, flags) < 0) {
        *again = errno == EAGAIN;
        ts_error_set("recv: %s", zmq_strerror(errno));
        zmq_msg_close(&msg);
        return NULL;
    }
    bool extra = zmq_msg_more(&msg);
    const char *addr = peer_ip ? zmq_msg_gets(&msg, "Peer-Address") : NULL;
    if (addr)
        snprintf(peer_ip, peer_cap, "%s", addr);
    Tessera__Envelope *env = NULL;
    if (extra) {
        drain(sock);
        ts_error_set("message with more than one payload frame");
    } else {
        env = ts_wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg));
    }
    zmq_msg_close(&msg);
    return env;
}

void ts_wire_free(Tessera__Envelope **env_p)
{
    if (*env_p) {
        tessera__envelope__free_unpacked(*env_p, NULL);
        *env_p = NULL;
    }
}

int ts_wire_test(bool verbose)
{
    int rc = -1;
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER), *dealer = zmq_socket(ctx, ZMQ_DEALER);
    zmq_bind(router, "inproc://ts_wire_test");
    zmq_connect(dealer, "inproc://ts_wire_test");

    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    Tessera__Heartbeat hb = TESSERA__HEARTBEAT__INIT;
    uint64_t holding[] = {7, 9};
    hb.free_slots = 3;
    hb.n_holding = 2;
    hb.holding = holding;
    env.body_case = TESSERA__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    char rid[TS_WIRE_RID_MAX];
    size_t rid_len = 0;
    bool again;
    Tessera__Envelope *got = NULL, *back = NULL;
    if (ts_wire_send(dealer, NULL, 0, &env, true) < 0)
        goto out;
    got = ts_wire_recv(router, false, rid, &rid_len, &again);
    if (!got || got->body_case != TESSERA__ENVELOPE__BODY_HEARTBEAT || got->heartbeat->free_slots != 3 ||
        got->heartbeat->n_holding != 2 || got->heartbeat->holding[1] != 9)
        goto out;
    /* The reply reaches the dealer through its routing id. */
    if (ts_wire_send(router, rid, rid_len, &env, false) < 0)
        goto out;
    back = ts_wire_recv(dealer, false, NULL, NULL, &again);
    if (!back || back->body_case != TESSERA__ENVELOPE__BODY_HEARTBEAT)
        goto out;
    /* Garbage and an empty body are refused with a message; nothing waiting says again. */
    zmq_send(dealer, "\xff\xff\xff", 3, 0);
    Tessera__Envelope *bad = ts_wire_recv(router, false, rid, &rid_len, &again);
    if (bad || again || !strstr(ts_error(), "malformed"))
        goto out;
    if (ts_wire_decode("", 0) != NULL || !strstr(ts_error(), "without a body"))
        goto out;
    if (ts_wire_recv(router, true, rid, &rid_len, &again) != NULL || !again)
        goto out;
    rc = 0;
out:
    ts_wire_free(&got);
    ts_wire_free(&back);
    zmq_close(router);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
    if (verbose || rc)
        fprintf(rc ? stderr : stdout, "ts_wire: %s\n", rc ? "FAILED" : "ok");
    return rc;
}
