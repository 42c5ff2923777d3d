/*
 * log_sink.h - records of shared/log.c to sembark-logd as ipc log.record
 * frames on a ZeroMQ PUSH socket, never waiting (see log_sink.c).
 */
#ifndef SEMBARK_LOG_SINK_H
#define SEMBARK_LOG_SINK_H

/* log_sink_attach - records go to logd through this PUSH socket (not owned) */
void log_sink_attach(void *zmq_push_socket);
/* log_sink_detach - stop before the socket is closed; frees the frame buffer */
void log_sink_detach(void);

#endif
