/*
 * helper_pause_x86_64 as seen by libunicorn (see tcg_pause.c): count the
 * PAUSE, then tail-jump to Unicorn's own helper so that it sees its
 * caller's return address (GETPC) and the arguments unchanged.
 */
	.text
	.globl helper_pause_x86_64
	.type helper_pause_x86_64, @function
helper_pause_x86_64:
	.cfi_startproc
	push %rdi
	.cfi_adjust_cfa_offset 8
	push %rsi
	.cfi_adjust_cfa_offset 8
	sub $8, %rsp /* 16-byte stack alignment for the call */
	.cfi_adjust_cfa_offset 8
	call tcg_count_pause@PLT
	add $8, %rsp
	.cfi_adjust_cfa_offset -8
	pop %rsi
	.cfi_adjust_cfa_offset -8
	pop %rdi
	.cfi_adjust_cfa_offset -8
	mov tcg_real_helper_pause@GOTPCREL(%rip), %rax
	jmp *(%rax)
	.cfi_endproc
	.size helper_pause_x86_64, .-helper_pause_x86_64

	.section .note.GNU-stack,"",@progbits
