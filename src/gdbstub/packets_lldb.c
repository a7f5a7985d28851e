/*
 * LLDB's switches for its faster paths (lldb-gdb-remote.txt): each turns a
 * session flag on and the packets that follow (packets.c) use it.
 *
 * Left unanswered (the empty reply), on purpose:
 * - qHostInfo, qProcessInfo: their triple would name an OS and a process;
 *   the target description already gives LLDB the architecture
 *   (i386:x86-64), and a guess here would make LLDB pick a platform and
 *   dynamic loader that do not match a bare kernel.
 * - qVAttachOrWaitSupported: there is no process to wait for by name.
 */
#include "gdbstub/session.h"

/* QThreadSuffixSupported: g/G/p/P may end in ";thread:N;" instead of an
 * Hg round trip before them. */
GDB_PACKET_HANDLER(pkt_thread_suffix_supported)
{
	(void)a;
	(void)end;
	s->thread_suffix = true;
	reply_str(r, "OK");
	return GDB_PKT_REPLY;
}

/* QListThreadsInStopReply: stop replies carry threads: and thread-pcs:,
 * so LLDB needs no thread list and no PC read per thread at each stop. */
GDB_PACKET_HANDLER(pkt_list_threads_in_stop_reply)
{
	(void)a;
	(void)end;
	s->threads_in_stop = true;
	reply_str(r, "OK");
	return GDB_PKT_REPLY;
}

/* QEnableErrorStrings: E replies then say what went wrong, in text. */
GDB_PACKET_HANDLER(pkt_enable_error_strings)
{
	(void)a;
	(void)end;
	s->error_strings = true;
	reply_str(r, "OK");
	return GDB_PKT_REPLY;
}
