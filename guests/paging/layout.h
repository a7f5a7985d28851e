/*
 * The paging guest's virtual address space. Every vCPU builds its own page
 * tables with this same layout, but backs the test window with physical
 * pages of its own: the same virtual address holds different data on each
 * vCPU, so a translation that leaked from one vCPU to another shows up as a
 * wrong value.
 *
 *   PML4[0]    0 - 512 GiB   identity map of the low 4 GiB (the boot
 *                            tables' entry, shared): runtime, stacks, UART,
 *                            LAPIC, and the physical view of everything
 *   PML4[1]    TEST_WINDOW   4 KiB pages, one slot per test (below); the
 *                            upper levels allow user access, so each PTE
 *                            alone decides
 *   PML4[511]  higher half   HIGH_1G: a 1 GiB page of physical 0 - 1 GiB
 *                            HIGH_2M: a 2 MiB page of physical 0 - 2 MiB
 *                            (the image is linked at 1 MiB)
 */
#ifndef PAGING_LAYOUT_H
#define PAGING_LAYOUT_H

#define HIGH_1G 0xffffffff80000000 /* PML4[511] PDPT[510], PS */
#define HIGH_2M 0xffffffffc0000000 /* PML4[511] PDPT[511] PD[0], PS */

#define TEST_WINDOW 0x0000008000000000 /* PML4[1] PDPT[0] PD[0] */
#define SLOT(n) (TEST_WINDOW + (n) * 0x1000)

/* Kernel (supervisor) slots. */
#define VA_CODE_4K SLOT(0)    /* image page holding probes.S' code, read-only */
#define VA_DATA SLOT(1)       /* data page A, writable, NX */
#define VA_DATA_ALIAS SLOT(2) /* data page A again */
#define VA_NOT_PRESENT SLOT(3)
#define VA_READ_ONLY SLOT(4) /* page R, present, not writable */
#define VA_NX SLOT(5)        /* page X (holds a ret), NX */
#define VA_RESERVED SLOT(6)  /* PTE with reserved bit 51 */
#define VA_AD SLOT(7)        /* page D, A and D clear */
#define VA_REMAP_DATA SLOT(8) /* page A or page B */
#define VA_REMAP_CODE SLOT(9) /* code page C1 or C2 */
#define VA_CODE_ALIAS SLOT(10) /* page C1 mapped read-only, executable */

/* User slots (U=1 unless noted). */
#define VA_USER_CODE SLOT(16)  /* image page holding user.S, read-only */
#define VA_USER_DATA SLOT(17)  /* page U, writable, NX; the user's GS base */
#define VA_USER_STACK SLOT(18) /* page S, writable, NX */
#define VA_USER_RO SLOT(19)    /* page R again, read-only for CPL 3 */
#define VA_USER_SUPER SLOT(20) /* page U again, but U=0: supervisor only */
#define VA_USER_NP SLOT(21)    /* not present */

/* Selectors of the guest's own GDT (gdt.c). STAR's user base is 0x18:
 * sysret loads CS = 0x18 + 16 and SS = 0x18 + 8, both with RPL 3. */
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_BASE 0x18
#define SEL_USER_DATA 0x23 /* 0x20 | RPL 3 */
#define SEL_USER_CODE 0x2b /* 0x28 | RPL 3 */
#define SEL_TSS 0x30

/* System calls of the user task (rax = number, rdi / rsi = arguments). */
#define SYS_NOTE 1 /* records rsi under key rdi */
#define SYS_EXIT 2 /* back to the kernel that entered user mode */

/* Keys of SYS_NOTE. */
#define NOTE_CS 0
#define NOTE_SS 1
#define NOTE_GS_BEFORE 2
#define NOTE_DF_CALL 3 /* the syscall issued with DF set */
#define NOTE_RFLAGS_AFTER 4
#define NOTE_GS_AFTER 5
#define NOTE_CS_AFTER_PF 6
#define NOTE_USER_DATA 7
#define NOTE_COUNT 8

/* struct percpu (usermode.h) offsets, for syscall_entry in user.S. */
#define PERCPU_USER_RSP 8
#define PERCPU_KERNEL_RSP 16
#define PERCPU_SAVED_RSP 24
#define PERCPU_TSS_RSP0 32

#endif
