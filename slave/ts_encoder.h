/* ts_encoder: the slave's persistent encoder process, run in the renderers' box (`tessera-slave encoder`). */
#ifndef TS_ENCODER_H
#define TS_ENCODER_H

#define TS_ENCODER_COMMAND "encoder" /* the slave's subcommand that runs it */
#define TS_ENCODER_CMD_FD 3          /* it reads requests here, one JSON object a line */
#define TS_ENCODER_REPLY_FD 4        /* and answers here */

/* Serves requests until its request pipe closes; the process's exit code. A request is
   {"op":"segment","in":PATH,"start":PTS,"end":PTS,"out":PATH,"params":{...the job's encoder settings...},
    "cheat":{"crf":N,"preset":NAME} (testing: a dishonest encode)} or
   {"op":"thumb","in":PATH,"w":N,"h":N,"out":PATH}; the reply {"ok":true,"frames":N} or
   {"ok":false,"error":TEXT,"input_error":BOOL} (the input itself is at fault). */
int ts_encoder_main(void);

#endif
