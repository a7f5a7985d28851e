/*
 * Kernel-mode probes and the code the paging guest executes through other
 * virtual addresses. paging_code_page is page aligned: the whole page is also
 * mapped at VA_CODE_4K, and through the higher-half 1 GiB and 2 MiB pages.
 */
	.section .text.paging_code, "ax"
	.code64
	.balign 4096
	.globl paging_code_page
paging_code_page:

	/* Returns its own run-time address: it differs with the virtual
	 * address the CPU fetched it from, though the bytes are the same. */
	.globl where_am_i
	.type where_am_i, @function
where_am_i:
	lea where_am_i(%rip), %rax
	ret
	.size where_am_i, . - where_am_i

	/* uint64_t probe_read(uint64_t va) */
	.globl probe_read, probe_read_insn, probe_read_fixup
	.type probe_read, @function
probe_read:
	xor %eax, %eax
probe_read_insn:
	mov (%rdi), %rax
probe_read_fixup:
	ret
	.size probe_read, . - probe_read

	/* void probe_write(uint64_t va, uint64_t value) */
	.globl probe_write, probe_write_insn, probe_write_fixup
	.type probe_write, @function
probe_write:
probe_write_insn:
	mov %rsi, (%rdi)
probe_write_fixup:
	ret
	.size probe_write, . - probe_write

	/* uint64_t probe_call(uint64_t va): a fetch fault at va leaves
	 * probe_call_return on top of the stack; the handler "returns" there
	 * with rax = PROBE_FETCH_FAULTED. */
	.globl probe_call, probe_call_return
	.type probe_call, @function
probe_call:
	call *%rdi
probe_call_return:
	ret
	.size probe_call, . - probe_call

	.section .note.GNU-stack, "", @progbits
