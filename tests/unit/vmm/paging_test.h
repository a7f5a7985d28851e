/*
 * Shared by the paging and CPU-mode tests (test_paging.c, test_cpu_modes.c)
 * and their guest code (paging_snippets.S, mode_switch.S): where the guest
 * code records what it saw, the address space the tests build, and the
 * selectors of the user-mode GDT entries. Plain numbers only: the
 * assembler reads this file too.
 */
#ifndef PAGING_TEST_H
#define PAGING_TEST_H

/* u64 slots in TG_DATA (0x300000, vmm_test_guest.h) the guest code
 * writes: SLOT(i) is the guest address of tg_data(vm, i). */
#define SLOT(i) (0x300000 + 8 * (i))

/* #PF handler (paging_snippets.S): how many, and the last one's error
 * code, CR2, and the frame the CPU pushed. */
#define PF_COUNT 0x40
#define PF_ERROR 0x41
#define PF_CR2 0x42
#define PF_RIP 0x43
#define PF_CS 0x44
#define PF_SS 0x45
#define PF_FRAME 0x46 /* RSP at the error code: which stack it used */

/* #GP / #UD handler: the vector, the error code (#GP), the frame. */
#define EXC_VECTOR 0x48
#define EXC_ERROR 0x49
#define EXC_RIP 0x4a
#define EXC_CS 0x4b

/* The system call entry (kernel side of the syscall test), through %gs
 * after swapgs: offsets from KPC_BASE, the kernel's GS base. */
#define KPC_BASE 0x300400
#define KPC_CALLS 0x00  /* system calls taken */
#define KPC_RCX 0x08    /* RCX at the first: the user's return RIP */
#define KPC_R11 0x10    /* R11 at the first: the user's RFLAGS */
#define KPC_RFLAGS 0x18 /* RFLAGS in the kernel (SFMASK applied) */
#define KPC_CS 0x20
#define KPC_SS 0x28
#define KPC_USER_RSP 0x30
#define KPC_STACK 0x38 /* kernel stack top, set by the test */
#define KPC_EXITS 0x40 /* the second call (rax = 2): back to the test */

/* Mode switches (mode_switch.S): one slot per stage reached. */
#define MODE_PM32_ECX 0x80    /* 2: two 0x41 bytes decoded as inc %ecx */
#define MODE_PAGED32_READ 0x81 /* a read through 32-bit paging */
#define MODE_LONG64 0x82      /* a 64-bit immediate stored in long mode */
#define MODE_EFER_AFTER 0x83  /* EFER after paging went off again */

/* Where mode_switch.S runs: real mode, CS = 0x1000, IP = 0. */
#define MODES_PHYS 0x10000
/* Its 32-bit paging structures (written by the test): a page directory
 * with a 4 MiB identity page, and a page table for 4-8 MiB. */
#define LEGACY_PD 0x40000
#define LEGACY_PT 0x41000
#define LEGACY_VA 0x400000 /* mapped by LEGACY_PT's first entry */
#define BOOT_PML4 0x2000   /* tg_create's identity map of 4 GiB */

/* GDT entries the CPL 3 tests add behind tg_create's (STAR's user base is
 * 0x20: sysret loads SS = 0x28 | 3 and CS = 0x30 | 3). */
#define KERNEL_CS 0x08
#define KERNEL_SS 0x10
#define USER_BASE 0x20
#define USER_SS 0x2b
#define USER_CS 0x33

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_SFMASK 0xc0000084
#define MSR_EFER 0xc0000080
#define SFMASK_TF_IF_DF 0x700

#endif
