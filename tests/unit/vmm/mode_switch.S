/* One guest that goes through every CPU mode by itself, the way firmware
 * and boot loaders do: it starts in real mode at MODES_PHYS (CS = 0x1000,
 * IP = 0), loads a real-mode segment base, enters 32-bit protected mode
 * (CR0.PE, far jump), runs with 32-bit paging, enters long mode (CR4.PAE,
 * EFER.LME, CR0.PG, far jump), goes back to compatibility mode (far
 * return), leaves long mode (paging off), and through a 16-bit segment
 * back to real mode, where it loads another segment base and halts. Each
 * stage leaves a mark (paging_test.h); test_cpu_modes.c checks them. */
#include "paging_test.h"

	.section .rodata
#define AT(label) (MODES_PHYS + (label) - modes_start)
	.globl modes_start, modes_end
modes_start:
	.code16
	jmp 1f
	.balign 8
modes_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: 32-bit code, flat */
	.quad 0x00cf93000000ffff	/* 0x10: data, flat */
	.quad 0x00af9b000000ffff	/* 0x18: 64-bit code */
	.quad 0x00009b010000ffff	/* 0x20: 16-bit code, base 0x10000 */
	.quad 0x000093000000ffff	/* 0x28: 16-bit data, 64 KiB */
modes_gdtr:
	.word modes_gdtr - modes_gdt - 1
	.long AT(modes_gdt)

1:	/* Real mode: DS = 0x2000 puts DS:0x10 at physical 0x20010. */
	mov $0x2000, %ax
	mov %ax, %ds
	movw $0x1234, 0x10
	lgdtl %cs:(modes_gdtr - modes_start)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $AT(pm32)

	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ecx, %ecx
	.byte 0x41, 0x41	/* inc %ecx twice here; REX prefixes in 64-bit */
	mov %ecx, SLOT(MODE_PM32_ECX)
	/* 32-bit paging: CR4.PSE for the 4 MiB identity page. */
	mov %cr4, %eax
	or $0x10, %eax
	mov %eax, %cr4
	mov $LEGACY_PD, %eax
	mov %eax, %cr3
	mov %cr0, %eax
	or $0x80000000, %eax
	mov %eax, %cr0
	mov LEGACY_VA + 0x10, %eax
	mov %eax, SLOT(MODE_PAGED32_READ)
	mov %cr0, %eax
	and $0x7fffffff, %eax
	mov %eax, %cr0
	/* Long mode: PAE tables (tg_create's), EFER.LME, paging on. */
	mov %cr4, %eax
	and $~0x10, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov $BOOT_PML4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax
	mov %eax, %cr0
	ljmp $0x18, $AT(lm64)

	.code64
lm64:
	movabs $0x6464646464646464, %rax
	mov %rax, SLOT(MODE_LONG64)
	pushq $0x08
	pushq $AT(compat)
	lretq

	.code32
compat:
	/* Paging off in compatibility mode leaves long mode. */
	mov %cr0, %eax
	and $0x7fffffff, %eax
	mov %eax, %cr0
	mov $MSR_EFER, %ecx
	rdmsr
	and $~0x100, %eax
	wrmsr
	rdmsr
	mov %eax, SLOT(MODE_EFER_AFTER)
	ljmp $0x20, $(pm16 - modes_start)

	.code16
pm16:
	mov $0x28, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr0, %eax
	and $~1, %eax
	mov %eax, %cr0
	ljmp $0x1000, $(rm - modes_start)
rm:	/* Real mode again: DS = 0x3000 puts DS:0x20 at physical 0x30020. */
	mov $0x3000, %ax
	mov %ax, %ds
	movw $0x5678, 0x20
	hlt
	.globl modes_hlt_end
modes_hlt_end:
	jmp .
modes_end:

	.section .note.GNU-stack,"",@progbits
