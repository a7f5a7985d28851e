/* Whose int3 (int3_owner.h). */
#include "gdbstub/int3_owner.h"

#define BP_VECTOR 3

static uint64_t le64(const uint8_t b[8])
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

bool int3_is_ours(const struct gdb_target_ops *ops, void *ctx,
		  const struct bp_table *bps, int vcpu, uint64_t *gpa)
{
	uint8_t rip[8];

	if (!bps || bp_table_count(bps) == 0 || !ops->read_reg ||
	    !ops->translate)
		return false;
	if (ops->read_reg(ctx, vcpu, GDB_REG_RIP, rip))
		return false;
	if (ops->translate(ctx, vcpu, le64(rip), 1, gpa))
		return false;
	return bp_table_find(bps, *gpa) != NULL;
}

void int3_give_to_guest(const struct gdb_target_ops *ops, void *ctx, int vcpu,
			int inst_length)
{
	int len;

	if (!ops->inject_exception)
		return;
	if (ops->get_entry_inst_length && ops->set_entry_inst_length &&
	    ops->get_entry_inst_length(ctx, vcpu, &len) == 0) {
		/* intel: the entry instruction length moves RIP */
		ops->set_entry_inst_length(ctx, vcpu, inst_length);
	} else if (ops->read_reg && ops->write_reg) {
		/* amd: the length register is ignored; advance RIP instead */
		uint8_t b[8];
		if (ops->read_reg(ctx, vcpu, GDB_REG_RIP, b) == 0) {
			uint64_t rip = le64(b) + (uint64_t)inst_length;
			for (int i = 0; i < 8; i++)
				b[i] = (uint8_t)(rip >> (8 * i));
			ops->write_reg(ctx, vcpu, GDB_REG_RIP, b);
		}
	}
	ops->inject_exception(ctx, vcpu, BP_VECTOR);
}
