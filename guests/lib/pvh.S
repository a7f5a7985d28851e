/*
 * Booting under `qemu-system-x86_64 -kernel guest.elf` (PVH): QEMU enters
 * pvh_start32 in 32-bit protected mode, paging off, EBX = hvm_start_info.
 * We build hvgdb's layout of page tables (identity 0-4 GiB, 2 MiB pages),
 * enter long mode, and hand over to pvh_boot_bsp (pvh_boot.c), which starts
 * the APs through the real-mode trampoline below; they end up in _start
 * with the same registers hvgdb would give them.
 */
#include "config.h"

#define CR0_PE 0x1
#define CR0_MP 0x2
#define CR0_NE 0x20
#define CR0_WP 0x10000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define CR4_OSFXSR 0x200
#define CR4_OSXMMEXCPT 0x400
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define PTE_PRESENT_RW 0x3
#define PDE_LARGE_PRESENT_RW 0x83
#define LAPIC_ID_REG 0xfee00020

	/* XEN_ELFNOTE_PHYS32_ENTRY: QEMU expects 4-byte alignment. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* namesz */
	.long 4			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long pvh_start32
	.balign 4

	.data
	.balign 16
	.globl pvh_gdt
pvh_gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf93000000ffff	/* 0x10: data */
	.quad 0x00cf9b000000ffff	/* 0x18: 32-bit code */
pvh_gdt_end:
pvh_gdt_ptr:
	.word pvh_gdt_end - pvh_gdt - 1
	.long pvh_gdt

	/* Read by the APs while the BSP zeroes the BSS: kept in .data. */
	.balign 8
	.globl pvh_start_info, pvh_ncpus, pvh_ram_size, pvh_cmdline, pvh_ap_checkin
pvh_start_info:	.quad 0
pvh_ram_size:	.quad 0
pvh_cmdline:	.quad 0
pvh_ncpus:	.long 0
pvh_ap_checkin:	.long 0

	.section .pvh_tables, "aw", @nobits
	.balign 4096
	.globl pvh_pml4
pvh_pml4:	.skip 4096
pvh_pdpt:	.skip 4096
pvh_pd:		.skip 4 * 4096

	/* Paging tables ready: PAE, CR3, EFER.LME, then PG (32-bit code).
	 * CR0 and CR4 end as hvgdb's boot protocol sets them (SSE enabled,
	 * native FPU errors, write protection), so both paths reach the
	 * common entry with the same registers. */
	.macro ENABLE_LONG_MODE
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $pvh_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_NE | CR0_MP | CR0_PE), %eax
	movl %eax, %cr0
	.endm

	.text
	.code32
	.globl pvh_start32
	.type pvh_start32, @function
pvh_start32:
	cli
	cld
	movl %ebx, pvh_start_info
	lgdt pvh_gdt_ptr
	ljmp $GUEST_CS32, $1f
1:	movl $GUEST_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs

	/* Tables are NOLOAD: whatever was there before is cleared first. */
	movl $pvh_pml4, %edi
	movl $(6 * 4096 / 4), %ecx
	xorl %eax, %eax
	rep stosl
	movl $(pvh_pdpt + PTE_PRESENT_RW), pvh_pml4
	movl $pvh_pdpt, %edi
	movl $(pvh_pd + PTE_PRESENT_RW), %eax
	movl $4, %ecx
2:	movl %eax, (%edi)
	addl $8, %edi
	addl $4096, %eax
	loop 2b
	movl $pvh_pd, %edi
	movl $PDE_LARGE_PRESENT_RW, %eax
	movl $2048, %ecx
3:	movl %eax, (%edi)
	addl $8, %edi
	addl $0x200000, %eax
	loop 3b

	/* No stack here: everything stays in registers. */
	ENABLE_LONG_MODE
	ljmp $GUEST_CS64, $pvh_start64
	.size pvh_start32, . - pvh_start32

	.code64
	.type pvh_start64, @function
pvh_start64:
	movl $GUEST_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	/* The BSP borrows its own runtime stack; _start resets it anyway. */
	lea (guest_stacks + GUEST_STACK_SIZE)(%rip), %rsp
	movl pvh_start_info(%rip), %edi
	call pvh_boot_bsp
4:	cli
	hlt
	jmp 4b
	.size pvh_start64, . - pvh_start64

	.type pvh_ap_start64, @function
pvh_ap_start64:
	movl $GUEST_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	/* vCPU index = APIC ID, as under hvgdb. */
	movl $LAPIC_ID_REG, %eax
	movl (%rax), %edi
	shrl $24, %edi
	lock incl pvh_ap_checkin(%rip)
	movl pvh_ncpus(%rip), %esi
	movq pvh_ram_size(%rip), %rdx
	movq pvh_cmdline(%rip), %rcx
	jmp _start
	.size pvh_ap_start64, . - pvh_ap_start64

	/*
	 * Real-mode AP trampoline, copied to GUEST_AP_TRAMPOLINE; a SIPI with
	 * vector GUEST_AP_TRAMPOLINE >> 12 starts it at CS:IP = 0x900:0. Its
	 * own labels are only used as offsets from pvh_trampoline.
	 */
	.code16
	.globl pvh_trampoline, pvh_trampoline_end
pvh_trampoline:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (pvh_tramp_gdt_ptr - pvh_trampoline)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $GUEST_CS32, $(GUEST_AP_TRAMPOLINE + pvh_tramp32 - pvh_trampoline)
	.code32
pvh_tramp32:
	movl $GUEST_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	ENABLE_LONG_MODE
	ljmp $GUEST_CS64, $pvh_ap_start64
	.balign 4
pvh_tramp_gdt_ptr:
	.word pvh_gdt_end - pvh_gdt - 1
	.long pvh_gdt
pvh_trampoline_end:

	.section .note.GNU-stack, "", @progbits
