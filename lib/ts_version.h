/* ts_version: the tessera version string shared by every program and the wire protocol. */
#ifndef TS_VERSION_H
#define TS_VERSION_H
#define TS_VERSION "0.1.0"
#endif
