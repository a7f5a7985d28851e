/*
 * Layout of the start-up self-test's scratch machine, shared by the harness
 * (tcg_cpu_selftest.c) and its guest (tcg_cpu_selftest_guest.S). Plain
 * defines only: the assembler includes this file.
 */
#ifndef HVGDB_TCG_CPU_SELFTEST_H
#define HVGDB_TCG_CPU_SELFTEST_H

#define SELFTEST_RAM 0x400000
#define SELFTEST_GDT 0x1000
#define SELFTEST_PML4 0x2000
#define SELFTEST_PDPT 0x3000
#define SELFTEST_PD 0x4000
#define SELFTEST_PT 0x5000 /* maps 2-4 MiB, all not present at first */
#define SELFTEST_IDT 0x6000
#define SELFTEST_TSS 0x7000
#define SELFTEST_RESULTS 0x9000
#define SELFTEST_USER_STACK 0x50000
#define SELFTEST_KERNEL_STACK 0x60000
#define SELFTEST_RSP0 0x70000
#define SELFTEST_CODE 0x100000
#define SELFTEST_FAULT_BACKING 0x180000
#define SELFTEST_FAULT_VA 0x200000

#define SELFTEST_KERNEL_CS 0x08
#define SELFTEST_KERNEL_DS 0x10
#define SELFTEST_USER_DS (0x18 | 3)
#define SELFTEST_USER_CS (0x20 | 3)
#define SELFTEST_TSS_SEL 0x28

/* Result offsets from SELFTEST_RESULTS, 8 bytes each. */
#define R_STARTED 0x00
#define R_EXT 0x08
#define R_PF_COUNT 0x10
#define R_PF_ERR 0x18 /* [2] */
#define R_PF_CR2 0x28 /* [2] */
#define R_INT31_FRAME_CS 0x38
#define R_INT31_CS 0x40
#define R_SYSCALL_CS 0x48
#define R_SYSCALL_SS 0x50
#define R_SYSCALL_RCX 0x58
#define R_SYSCALLS 0x60
#define R_USER_CS_AFTER_SYSRET 0x68
#define R_DF 0x70
#define R_GP 0x78
#define R_END 0x80

#endif
