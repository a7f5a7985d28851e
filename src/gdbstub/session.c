/* Session lifetime, reply buffer helpers and thread-id parsing. */
#include "gdbstub/session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/rsp_codec.h"

int gdb_session_init(struct gdb_session *s, const struct gdb_target_ops *ops,
		     void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->ctx = ctx;
	s->nvcpus = ops->vcpu_count ? ops->vcpu_count(ctx) : 1;
	if (s->nvcpus == 0)
		s->nvcpus = 1;
	bp_table_init(&s->bps);
	watch_table_init(&s->watches);
	s->actions = calloc(s->nvcpus, sizeof(*s->actions));
	s->ranges = calloc(s->nvcpus, sizeof(*s->ranges));
	s->scratch_cap = RSP_PACKET_SIZE;
	s->scratch = malloc(s->scratch_cap);
	int queue_rc = stop_queue_init(&s->stops, s->nvcpus);
	if (!s->actions || !s->ranges || !s->scratch || queue_rc) {
		gdb_session_free(s);
		return -ENOMEM;
	}
	/* Chosen once (bhyve probes MTRAP per step): MTRAP where it exists
	 * (intel), otherwise a TF step the guest cannot see (amd). */
	if (ops->has_cap && ops->set_cap) {
		if (ops->has_cap(ctx, GDB_CAP_MTRAP_EXIT)) {
			s->can_step = true;
			s->step_cap = GDB_CAP_MTRAP_EXIT;
		} else if (ops->has_cap(ctx, GDB_CAP_RFLAGS_TF)) {
			s->can_step = true;
			s->step_cap = GDB_CAP_RFLAGS_TF;
		}
	}
	gdb_session_reset(s);
	return 0;
}

void gdb_session_free(struct gdb_session *s)
{
	bp_table_free(&s->bps);
	stop_queue_free(&s->stops);
	free(s->actions);
	free(s->ranges);
	free(s->scratch);
	s->actions = NULL;
	s->ranges = NULL;
	s->scratch = NULL;
}

void gdb_session_reset(struct gdb_session *s)
{
	s->hg = 0;
	s->hc = -1;
	s->phys_mode = false;
	s->noack = false;
	s->peer_swbreak = false;
	s->peer_hwbreak = false;
	s->thread_suffix = false;
	s->threads_in_stop = false;
	s->error_strings = false;
	s->thread_events = false;
	s->last_stop = (struct gdb_stop_info){ .vcpu = 0, .signal = 5 };
	s->non_stop = false;
	s->quiet_stops_owed = false;
	stop_queue_reset(&s->stops);
	memset(s->actions, 0, s->nvcpus * sizeof(*s->actions));
	memset(s->ranges, 0, s->nvcpus * sizeof(*s->ranges));
}

void reply_reset(struct gdb_reply *r)
{
	r->len = 0;
	r->overflow = false;
}

void reply_bytes(struct gdb_reply *r, const void *data, size_t len)
{
	if (r->overflow || len > r->cap - r->len) {
		r->overflow = true;
		return;
	}
	memcpy(r->buf + r->len, data, len);
	r->len += len;
}

void reply_str(struct gdb_reply *r, const char *s)
{
	reply_bytes(r, s, strlen(s));
}

void reply_fmt(struct gdb_reply *r, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		r->overflow = true;
		return;
	}
	reply_bytes(r, tmp, (size_t)n);
}

void reply_hex(struct gdb_reply *r, const uint8_t *data, size_t len)
{
	if (r->overflow || len > (r->cap - r->len) / 2) {
		r->overflow = true;
		return;
	}
	hex_encode(data, len, (char *)r->buf + r->len);
	r->len += 2 * len;
}

void reply_error(struct gdb_reply *r, int errnum)
{
	reply_reset(r);
	reply_fmt(r, "E%02x", errnum & 0xff);
}

int parse_thread_id(const struct gdb_session *s, const char **p,
		    const char *end, int *vcpu)
{
	const char *q = *p;
	uint64_t tid;

	if (end - q >= 2 && q[0] == '-' && q[1] == '1') {
		*p = q + 2;
		*vcpu = -1;
		return 0;
	}
	if (hex_parse_u64(&q, end, &tid))
		return -1;
	if (tid > s->nvcpus)
		return -1;
	*p = q;
	*vcpu = tid == 0 ? 0 : (int)tid - 1;
	return 0;
}

bool gdb_session_has_watch(const struct gdb_session *s)
{
	const struct gdb_target_ops *o = s->ops;
	return o->insert_watch && o->remove_watch && o->watch_limits;
}

bool gdb_session_has_swbreak(const struct gdb_session *s)
{
	const struct gdb_target_ops *o = s->ops;
	return o->read_phys && o->write_phys && o->set_cap && o->read_reg &&
	       o->write_reg && o->inject_exception &&
	       (o->translate || s->phys_mode);
}
