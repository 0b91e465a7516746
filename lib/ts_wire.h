/* ts_wire: protobuf-c Envelopes over ZeroMQ sockets (ROUTER on the master, DEALER on slaves). */
#ifndef TS_WIRE_H
#define TS_WIRE_H

#include "lib/tessera.pb-c.h"
#include <stdbool.h>
#include <stddef.h>

#define TS_WIRE_RID_MAX 256

/* Sends one Envelope without blocking (-1 with errno EAGAIN when the peer cannot take it now), or blocking
   when block is set. rid/rid_len: the peer's routing id on a ROUTER socket; NULL on a DEALER or PAIR. */
int ts_wire_send(void *sock, const void *rid, size_t rid_len, const Tessera__Envelope *env, bool block);

/* Receives one message (non-blocking when dontwait). Returns the unpacked Envelope (free with
   ts_wire_free), or NULL: with *again set when nothing was waiting, else with ts_error() saying why
   the message was dropped (malformed, no body, too many frames). rid may be NULL on a DEALER. */
Tessera__Envelope *ts_wire_recv(void *sock, bool dontwait, char *rid, size_t *rid_len, bool *again);
/* The same, also giving the sender's IP address as the transport saw it ("" when unknown), for a ROUTER whose
   peers connect over TCP. */
Tessera__Envelope *ts_wire_recv_from(void *sock, bool dontwait, char *rid, size_t *rid_len, char *peer_ip,
                                     size_t peer_cap, bool *again);

/* Unpacks and checks one payload (the fuzzed entry point): NULL with ts_error() when malformed. */
Tessera__Envelope *ts_wire_decode(const void *data, size_t len);
void ts_wire_free(Tessera__Envelope **env_p);

int ts_wire_test(bool verbose);

#endif
