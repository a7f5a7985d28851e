/*
 * 64-bit IDT event delivery (Intel SDM vol. 3A, 6.14 "Exception and
 * Interrupt Handling in 64-bit Mode").
 *
 * Delivery works on a copy of the CPU state and commits it only when every
 * step succeeded, so a failed attempt leaves the caller's state untouched and
 * #DF (or shutdown) can start again from the original state.
 */
#include "vmm/x86_event.h"

#define VECTOR_DF 8

#define GATE_SIZE 16
#define GATE_TYPE_INTERRUPT 0xe
#define GATE_TYPE_TRAP 0xf

#define RFLAGS_TF (1ULL << 8)
#define RFLAGS_IF (1ULL << 9)
#define RFLAGS_NT (1ULL << 14)
#define RFLAGS_RF (1ULL << 16)

#define SEL_RPL_MASK 0x3
#define SEL_TI (1u << 2) /* selector names the LDT */
#define SEL_INDEX_MASK 0xfff8

/* Segment descriptor bits, as positions in the 8-byte descriptor. */
#define DESC_CODE (1ULL << 43)
#define DESC_CONFORMING (1ULL << 42)
#define DESC_S (1ULL << 44)
#define DESC_DPL_SHIFT 45
#define DESC_P (1ULL << 47)
#define DESC_L (1ULL << 53)
#define DESC_D (1ULL << 54)

#define TSS_RSP0 0x04
#define TSS_IST1 0x24

struct idt_gate {
	uint64_t offset;
	uint16_t selector;
	unsigned ist;
	unsigned type;
	unsigned dpl;
	bool present;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool read_u64(const struct x86_event_mem *mem, uint64_t gla,
		     uint64_t *val)
{
	uint8_t b[8];

	if (mem->read(mem->ctx, gla, b, sizeof(b)) != 0)
		return false;
	*val = (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
	return true;
}

/* Even with LA57, an address outside 57-bit canonical form is never valid. */
static bool is_canonical_57(uint64_t addr)
{
	return (uint64_t)((int64_t)(addr << 7) >> 7) == addr;
}

static bool read_gate(const struct x86_event_cpu *cpu,
		      const struct x86_event_mem *mem, int vector,
		      struct idt_gate *gate)
{
	uint64_t offset_in_idt = (uint64_t)vector * GATE_SIZE;
	uint8_t b[GATE_SIZE];

	if (offset_in_idt + GATE_SIZE - 1 > cpu->idt_limit)
		return false;
	if (mem->read(mem->ctx, cpu->idt_base + offset_in_idt, b,
		      sizeof(b)) != 0)
		return false;
	gate->offset = le16(b) | (uint64_t)le16(b + 6) << 16 |
		       (uint64_t)le32(b + 8) << 32;
	gate->selector = le16(b + 2);
	gate->ist = b[4] & 0x7;
	gate->type = b[5] & 0xf;
	gate->dpl = (b[5] >> 5) & 0x3;
	gate->present = (b[5] & 0x80) != 0;
	return true;
}

static bool gate_allows(const struct idt_gate *gate, enum x86_event_kind kind,
			unsigned cpl)
{
	if (gate->type != GATE_TYPE_INTERRUPT && gate->type != GATE_TYPE_TRAP)
		return false;
	/* Only software events are subject to the gate's DPL (int n from
	 * user mode must not reach kernel-only gates). */
	if ((kind == X86_EVENT_SW_EXCEPTION || kind == X86_EVENT_SW_INT) &&
	    gate->dpl < cpl)
		return false;
	return gate->present && is_canonical_57(gate->offset);
}

/* The CPL the handler runs at, from the gate's 64-bit code segment. */
static bool target_cpl(const struct x86_event_cpu *cpu,
		       const struct x86_event_mem *mem, uint16_t selector,
		       unsigned cpl, unsigned *new_cpl)
{
	uint64_t index_offset = selector & SEL_INDEX_MASK;
	uint64_t desc;
	unsigned dpl;

	if (index_offset == 0 || (selector & SEL_TI))
		return false;
	if (index_offset + 7 > cpu->gdt_limit)
		return false;
	if (!read_u64(mem, cpu->gdt_base + index_offset, &desc))
		return false;
	if (!(desc & DESC_S) || !(desc & DESC_CODE) || !(desc & DESC_P))
		return false;
	if (!(desc & DESC_L) || (desc & DESC_D))
		return false;
	dpl = (desc >> DESC_DPL_SHIFT) & 0x3;
	if (dpl > cpl)
		return false;
	*new_cpl = (desc & DESC_CONFORMING) ? cpl : dpl;
	return true;
}

static bool read_tss_u64(const struct x86_event_cpu *cpu,
			 const struct x86_event_mem *mem, uint32_t offset,
			 uint64_t *val)
{
	if ((uint64_t)offset + 7 > cpu->tss_limit)
		return false;
	return read_u64(mem, cpu->tss_base + offset, val);
}

/* Picks the handler stack: IST wins, then TSS.RSPn on a privilege change. */
static bool handler_stack(const struct x86_event_cpu *cpu,
			  const struct x86_event_mem *mem,
			  const struct idt_gate *gate, unsigned cpl,
			  unsigned new_cpl, uint64_t *rsp, uint16_t *ss)
{
	bool cpl_changes = new_cpl < cpl;

	*rsp = cpu->rsp;
	/* 64-bit mode loads a null SS carrying the new RPL on a change. */
	*ss = cpl_changes ? (uint16_t)new_cpl : cpu->ss;
	if (gate->ist != 0)
		return read_tss_u64(cpu, mem, TSS_IST1 + 8 * (gate->ist - 1),
				    rsp);
	if (cpl_changes)
		return read_tss_u64(cpu, mem, TSS_RSP0 + 8 * new_cpl, rsp);
	return true;
}

static bool deliver_once(struct x86_event_cpu *cpu,
			 const struct x86_event_mem *mem, int vector,
			 enum x86_event_kind kind, bool has_error_code,
			 uint32_t error_code)
{
	unsigned cpl = cpu->cs & SEL_RPL_MASK;
	struct idt_gate gate;
	unsigned new_cpl;
	uint64_t rsp;
	uint16_t ss;
	uint8_t frame[6 * 8];
	size_t frame_len = 0;
	uint64_t words[6];
	size_t nwords = 0;

	if (vector < 0 || vector > 255)
		return false;
	if (!read_gate(cpu, mem, vector, &gate) ||
	    !gate_allows(&gate, kind, cpl))
		return false;
	if (!target_cpl(cpu, mem, gate.selector, cpl, &new_cpl))
		return false;
	if (!handler_stack(cpu, mem, &gate, cpl, new_cpl, &rsp, &ss))
		return false;

	/* Lowest address first: [err,] RIP, CS, RFLAGS, RSP, SS. */
	if (has_error_code)
		words[nwords++] = error_code;
	words[nwords++] = cpu->rip;
	words[nwords++] = cpu->cs;
	words[nwords++] = cpu->rflags;
	words[nwords++] = cpu->rsp;
	words[nwords++] = cpu->ss;
	for (size_t i = 0; i < nwords; i++, frame_len += 8)
		put_le64(frame + frame_len, words[i]);

	rsp = (rsp & ~0xfULL) - frame_len;
	if (mem->write(mem->ctx, rsp, frame, frame_len) != 0)
		return false;

	cpu->rsp = rsp;
	cpu->ss = ss;
	cpu->cs = (uint16_t)((gate.selector & ~SEL_RPL_MASK) | new_cpl);
	cpu->rip = gate.offset;
	cpu->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF);
	if (gate.type == GATE_TYPE_INTERRUPT)
		cpu->rflags &= ~RFLAGS_IF;
	return true;
}

enum x86_deliver_result x86_deliver_event(struct x86_event_cpu *cpu,
					  const struct x86_event_mem *mem,
					  int vector, enum x86_event_kind kind,
					  bool has_error_code,
					  uint32_t error_code)
{
	struct x86_event_cpu attempt;

	/* No way to deliver anything: the caller must shut the VM down. */
	if (!cpu || !mem || !mem->read || !mem->write)
		return X86_DELIVER_TRIPLE_FAULT;
	attempt = *cpu;
	if (deliver_once(&attempt, mem, vector, kind, has_error_code,
			 error_code)) {
		*cpu = attempt;
		return X86_DELIVER_OK;
	}
	/* A fault while delivering #DF itself is a shutdown. */
	if (vector == VECTOR_DF && kind == X86_EVENT_HW_EXCEPTION)
		return X86_DELIVER_TRIPLE_FAULT;

	attempt = *cpu;
	if (deliver_once(&attempt, mem, VECTOR_DF, X86_EVENT_HW_EXCEPTION,
			 true, 0)) {
		*cpu = attempt;
		return X86_DELIVER_DOUBLE_FAULT;
	}
	return X86_DELIVER_TRIPLE_FAULT;
}

bool x86_exception_has_error_code(int vector)
{
	switch (vector) {
	case 8:
	case 10:
	case 11:
	case 12:
	case 13:
	case 14:
	case 17:
	case 21:
	case 29:
	case 30:
		return true;
	default:
		return false;
	}
}
