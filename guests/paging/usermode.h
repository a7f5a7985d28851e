/*
 * CPL 3 support: a GDT and TSS per vCPU, the syscall MSRs, and a run of the
 * user task (user.S) with what its system calls reported.
 */
#ifndef PAGING_USERMODE_H
#define PAGING_USERMODE_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"
#include "x86.h"

/* What this vCPU's GS base points at in the kernel (after swapgs). */
struct percpu {
	struct percpu *self;  /* %gs:0 in the kernel */
	uint64_t user_rsp;    /* PERCPU_USER_RSP */
	uint64_t kernel_rsp;  /* PERCPU_KERNEL_RSP */
	uint64_t saved_rsp;   /* PERCPU_SAVED_RSP */
	uint64_t tss_rsp0;    /* PERCPU_TSS_RSP0: address of TSS.RSP0 */
	/* Filled by syscall_dispatch. */
	unsigned syscalls;
	bool noted[NOTE_COUNT];
	uint64_t notes[NOTE_COUNT];
	/* Seen by the kernel during the NOTE_DF_CALL system call. */
	uint64_t df_user_rip, df_user_rflags, df_entry_rflags;
	uint64_t df_gs_base, df_kernel_gs_base, df_cs;
};

/* This vCPU: own GDT (kernel, user and TSS descriptors), ltr, EFER.SCE,
 * STAR / LSTAR / SFMASK. */
void usermode_setup_cpu(unsigned vcpu);

/* Runs the user task to its SYS_EXIT; the user page tables must be live.
 * Returns this vCPU's percpu with the notes. */
struct percpu *usermode_run(unsigned vcpu, uint64_t user_gs_marker);

/* SFMASK: the RFLAGS bits syscall clears for the kernel. */
#define SYSCALL_FLAG_MASK (RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_AC)

#endif
