/*
 * smtp.c - handing mails to the relay with libcurl's SMTP, on maild's
 * libevent loop through curl's multi interface (its sockets watched by
 * events, its timeouts by one timer): the loop never waits for the relay.
 * One easy handle per mail: MAIL FROM [mail] from, RCPT TO the recipient,
 * the message uploaded from memory; STARTTLS required on smtp:// unless
 * [mail] require_tls is off (smtps:// is TLS from the start); the relay's
 * certificate checked against [mail] ca_file or the system's CAs; SMTP
 * AUTH when [mail] username is set. A failure is reported as curl's words
 * for it and the relay's reply code, never the error buffer (it names
 * hosts and addresses): permanent when the relay answered 5xx.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "maild.h"
#include "secret.h"

#define CONNECT_TIMEOUT_S 10
#define TRANSFER_TIMEOUT_S 60

struct smtp {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct mail_job *jobs; /* every job under way */
	size_t inflight;
};

struct mail_job {
	struct mail_job *prev, *next;
	struct smtp *s;
	CURL *easy;
	struct curl_slist *rcpt;
	char *data;
	size_t len, off;
	smtp_done_fn done;
	void *userdata;
};

/* one watched socket of curl's */
struct sock_watch {
	struct event *ev;
};

static void s_job_free(struct mail_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else if (j->s->jobs == j)
		j->s->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	if (j->easy) {
		curl_multi_remove_handle(j->s->multi, j->easy);
		curl_easy_cleanup(j->easy);
	}
	curl_slist_free_all(j->rcpt);
	if (j->data) {
		explicit_bzero(j->data, j->len); /* a reset link's token */
		free(j->data);
	}
	free(j);
}

static size_t s_read(char *buf, size_t size, size_t n, void *userdata)
{
	struct mail_job *j = userdata;
	size_t want = size * n, left = j->len - j->off;
	size_t k = want < left ? want : left;

	memcpy(buf, j->data + j->off, k);
	j->off += k;
	return k;
}

/* s_finished - curl says which transfers ended: their done, then they go */
static void s_finished(struct smtp *s)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(s->multi, &left))) {
		struct mail_job *j = NULL;
		long code = 0;
		char why[MAILD_ERROR_MAX];

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		snprintf(why, sizeof(why), "%s (reply %ld)", curl_easy_strerror(msg->data.result),
			 code);
		s->inflight--;
		j->done(j->userdata, msg->data.result == CURLE_OK, code >= 500 && code < 600, why);
		s_job_free(j);
	}
}

static void s_on_socket(evutil_socket_t fd, short what, void *userdata)
{
	struct smtp *s = userdata;
	int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(s->multi, fd, flags, &running);
	s_finished(s);
}

static void s_on_timer(evutil_socket_t fd, short what, void *userdata)
{
	struct smtp *s = userdata;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	s_finished(s);
}

/* s_socket_cb - curl wants socket fd watched for `what` (or no longer) */
static int s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct smtp *s = userp;
	struct sock_watch *w = socketp;
	short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
		     ((what & CURL_POLL_OUT) ? EV_WRITE : 0);

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (w) {
			event_free(w->ev);
			free(w);
		}
		curl_multi_assign(s->multi, fd, NULL);
		return 0;
	}
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -1;
		curl_multi_assign(s->multi, fd, w);
	} else {
		event_free(w->ev);
	}
	w->ev = event_new(s->base, fd, kind, s_on_socket, s);
	if (!w->ev || event_add(w->ev, NULL) < 0)
		return -1;
	return 0;
}

/* s_timer_cb - curl wants to be called after timeout_ms (-1: not at all) */
static int s_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct smtp *s = userp;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(s->timer);
	return evtimer_add(s->timer, &tv);
}

/* smtp_new - curl's multi handle on base */
int smtp_new(struct event_base *base, struct smtp **ret)
{
	struct smtp *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->base = base;
	s->multi = curl_multi_init();
	s->timer = evtimer_new(base, s_on_timer, s);
	if (!s->multi || !s->timer) {
		smtp_free(s);
		return -ENOMEM;
	}
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	*ret = s;
	return 0;
}

/* smtp_free - what is under way is abandoned; accepts NULL */
struct smtp *smtp_free(struct smtp *s)
{
	if (!s)
		return NULL;
	while (s->jobs)
		s_job_free(s->jobs);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	if (s->timer)
		event_free(s->timer);
	free(s);
	return NULL;
}

static int s_setup(struct mail_job *j, const struct maild *m, const char *to)
{
	const struct sembark_config *cfg = &m->b.d.cfg;
	char addr[300];
	CURL *e = j->easy;

	snprintf(addr, sizeof(addr), "<%s>", to);
	j->rcpt = curl_slist_append(NULL, addr);
	if (!j->rcpt)
		return -ENOMEM;
	snprintf(addr, sizeof(addr), "<%s>", cfg->mail.from);
	if (curl_easy_setopt(e, CURLOPT_URL, cfg->mail.relay) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAIL_FROM, addr) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, j->rcpt) != CURLE_OK)
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_READFUNCTION, s_read);
	curl_easy_setopt(e, CURLOPT_READDATA, j);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)j);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)TRANSFER_TIMEOUT_S);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(e, CURLOPT_USE_SSL, cfg->mail.require_tls ? (long)CURLUSESSL_ALL :
								      (long)CURLUSESSL_TRY);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cfg->mail.ca_file[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->mail.ca_file);
	if (cfg->mail.username[0]) {
		curl_easy_setopt(e, CURLOPT_USERNAME, cfg->mail.username);
		if (m->password)
			curl_easy_setopt(e, CURLOPT_PASSWORD, (const char *)m->password->data);
	}
	return 0;
}

/* smtp_send - hand one message to the relay; done runs once, later */
int smtp_send(struct smtp *s, const struct maild *m, const char *to, const char *message,
	      size_t len, smtp_done_fn done, void *userdata)
{
	struct mail_job *j = calloc(1, sizeof(*j));
	int r = -ENOMEM;

	if (!j)
		return -ENOMEM;
	*j = (struct mail_job){ .s = s, .done = done, .userdata = userdata, .len = len };
	j->data = malloc(len ? len : 1);
	j->easy = curl_easy_init();
	if (j->data && j->easy) {
		memcpy(j->data, message, len);
		r = s_setup(j, m, to);
	}
	if (r == 0 && curl_multi_add_handle(s->multi, j->easy) != CURLM_OK)
		r = -ENOMEM;
	if (r < 0) {
		CURL *e = j->easy;

		j->easy = NULL; /* never added */
		curl_easy_cleanup(e);
		s_job_free(j);
		return r;
	}
	j->next = s->jobs;
	if (s->jobs)
		s->jobs->prev = j;
	s->jobs = j;
	s->inflight++;
	return 0;
}

/* smtp_inflight - deliveries under way */
size_t smtp_inflight(const struct smtp *s)
{
	return s ? s->inflight : 0;
}
