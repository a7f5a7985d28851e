/*
 * The registers the debug server serves, one row each, in GDB's
 * i386:x86-64 numbering (the order of a 'g' packet). Everything about a
 * register is generated from its row: the enum gdb_x86_reg (gdbstub.h),
 * sizes and names, the target description (src/gdbstub/target_xml.c) and
 * where the VM keeps it (src/cli/gdb_target.c). Add a register here and
 * nowhere else; its number is its position.
 *
 * X(ID, name, bits, type, group, feature, place)
 *   ID       the enum constant is GDB_REG_<ID>
 *   name     its name in the target description (what gdb and lldb show)
 *   bits     its size in bits (a whole number of bytes)
 *   type     its type in the target description
 *   group    its group attribute there, "" for none
 *   feature  the <feature> it belongs to: CORE, SSE, SEGMENTS, SYSTEM,
 *            DESCRIPTORS, DEBUG_REGS (target_xml.c gives their names; rows of
 *            one feature are together)
 *   place    where the VM target finds it (only gdb_target.c reads this):
 *            VM(R) the VM register VM_REG_GUEST_R, FP_BYTES(f) and
 *            FP_WORD(f) field f of struct vm_fpregs (bytes as they are, or
 *            a host uint32_t sent little-endian), DESC(R, f) field f
 *            (base, limit, access) of the hidden part of segment or table
 *            register R (vm_get_desc)
 *
 * DESCRIPTORS and DEBUG_REGS come last, so the amd64 layout gdb and lldb know
 * keeps its offsets: the descriptor-table registers, the hidden part of
 * every segment register (fs and gs have their base above already:
 * fs_base, gs_base) with its attributes in the VMX access-rights layout,
 * and the guest's own debug registers (never the debugger's watchpoints).
 *
 * org.gnu.gdb.i386.linux is deliberately absent: its orig_rax would shift
 * fs_base/gs_base and means nothing for a bare-metal guest.
 */
#ifndef HVGDB_GDB_X86_REGS_H
#define HVGDB_GDB_X86_REGS_H

#define GDB_X86_REGS(X)                                                      \
	X(RAX, "rax", 64, "int64", "", CORE, VM(RAX))                        \
	X(RBX, "rbx", 64, "int64", "", CORE, VM(RBX))                        \
	X(RCX, "rcx", 64, "int64", "", CORE, VM(RCX))                        \
	X(RDX, "rdx", 64, "int64", "", CORE, VM(RDX))                        \
	X(RSI, "rsi", 64, "int64", "", CORE, VM(RSI))                        \
	X(RDI, "rdi", 64, "int64", "", CORE, VM(RDI))                        \
	X(RBP, "rbp", 64, "data_ptr", "", CORE, VM(RBP))                     \
	X(RSP, "rsp", 64, "data_ptr", "", CORE, VM(RSP))                     \
	X(R8, "r8", 64, "int64", "", CORE, VM(R8))                           \
	X(R9, "r9", 64, "int64", "", CORE, VM(R9))                           \
	X(R10, "r10", 64, "int64", "", CORE, VM(R10))                        \
	X(R11, "r11", 64, "int64", "", CORE, VM(R11))                        \
	X(R12, "r12", 64, "int64", "", CORE, VM(R12))                        \
	X(R13, "r13", 64, "int64", "", CORE, VM(R13))                        \
	X(R14, "r14", 64, "int64", "", CORE, VM(R14))                        \
	X(R15, "r15", 64, "int64", "", CORE, VM(R15))                        \
	X(RIP, "rip", 64, "code_ptr", "", CORE, VM(RIP))                     \
	X(EFLAGS, "eflags", 32, "i386_eflags", "", CORE, VM(RFLAGS))         \
	X(CS, "cs", 32, "int32", "", CORE, VM(CS))                           \
	X(SS, "ss", 32, "int32", "", CORE, VM(SS))                           \
	X(DS, "ds", 32, "int32", "", CORE, VM(DS))                           \
	X(ES, "es", 32, "int32", "", CORE, VM(ES))                           \
	X(FS, "fs", 32, "int32", "", CORE, VM(FS))                           \
	X(GS, "gs", 32, "int32", "", CORE, VM(GS))                           \
	X(ST0, "st0", 80, "i387_ext", "", CORE, FP_BYTES(st[0]))             \
	X(ST1, "st1", 80, "i387_ext", "", CORE, FP_BYTES(st[1]))             \
	X(ST2, "st2", 80, "i387_ext", "", CORE, FP_BYTES(st[2]))             \
	X(ST3, "st3", 80, "i387_ext", "", CORE, FP_BYTES(st[3]))             \
	X(ST4, "st4", 80, "i387_ext", "", CORE, FP_BYTES(st[4]))             \
	X(ST5, "st5", 80, "i387_ext", "", CORE, FP_BYTES(st[5]))             \
	X(ST6, "st6", 80, "i387_ext", "", CORE, FP_BYTES(st[6]))             \
	X(ST7, "st7", 80, "i387_ext", "", CORE, FP_BYTES(st[7]))             \
	X(FCTRL, "fctrl", 32, "int", "float", CORE, FP_WORD(fctrl))          \
	X(FSTAT, "fstat", 32, "int", "float", CORE, FP_WORD(fstat))          \
	X(FTAG, "ftag", 32, "int", "float", CORE, FP_WORD(ftag))             \
	X(FISEG, "fiseg", 32, "int", "float", CORE, FP_WORD(fiseg))          \
	X(FIOFF, "fioff", 32, "int", "float", CORE, FP_WORD(fioff))          \
	X(FOSEG, "foseg", 32, "int", "float", CORE, FP_WORD(foseg))          \
	X(FOOFF, "fooff", 32, "int", "float", CORE, FP_WORD(fooff))          \
	X(FOP, "fop", 32, "int", "float", CORE, FP_WORD(fop))                \
	X(XMM0, "xmm0", 128, "vec128", "", SSE, FP_BYTES(xmm[0]))            \
	X(XMM1, "xmm1", 128, "vec128", "", SSE, FP_BYTES(xmm[1]))            \
	X(XMM2, "xmm2", 128, "vec128", "", SSE, FP_BYTES(xmm[2]))            \
	X(XMM3, "xmm3", 128, "vec128", "", SSE, FP_BYTES(xmm[3]))            \
	X(XMM4, "xmm4", 128, "vec128", "", SSE, FP_BYTES(xmm[4]))            \
	X(XMM5, "xmm5", 128, "vec128", "", SSE, FP_BYTES(xmm[5]))            \
	X(XMM6, "xmm6", 128, "vec128", "", SSE, FP_BYTES(xmm[6]))            \
	X(XMM7, "xmm7", 128, "vec128", "", SSE, FP_BYTES(xmm[7]))            \
	X(XMM8, "xmm8", 128, "vec128", "", SSE, FP_BYTES(xmm[8]))            \
	X(XMM9, "xmm9", 128, "vec128", "", SSE, FP_BYTES(xmm[9]))            \
	X(XMM10, "xmm10", 128, "vec128", "", SSE, FP_BYTES(xmm[10]))         \
	X(XMM11, "xmm11", 128, "vec128", "", SSE, FP_BYTES(xmm[11]))         \
	X(XMM12, "xmm12", 128, "vec128", "", SSE, FP_BYTES(xmm[12]))         \
	X(XMM13, "xmm13", 128, "vec128", "", SSE, FP_BYTES(xmm[13]))         \
	X(XMM14, "xmm14", 128, "vec128", "", SSE, FP_BYTES(xmm[14]))         \
	X(XMM15, "xmm15", 128, "vec128", "", SSE, FP_BYTES(xmm[15]))         \
	X(MXCSR, "mxcsr", 32, "i386_mxcsr", "vector", SSE, FP_WORD(mxcsr))   \
	X(FS_BASE, "fs_base", 64, "int", "", SEGMENTS, VM(FS_BASE))          \
	X(GS_BASE, "gs_base", 64, "int", "", SEGMENTS, VM(GS_BASE))          \
	X(K_GS_BASE, "k_gs_base", 64, "int", "", SYSTEM, VM(KGS_BASE))       \
	X(CR0, "cr0", 64, "int", "", SYSTEM, VM(CR0))                        \
	X(CR2, "cr2", 64, "int", "", SYSTEM, VM(CR2))                        \
	X(CR3, "cr3", 64, "int", "", SYSTEM, VM(CR3))                        \
	X(CR4, "cr4", 64, "int", "", SYSTEM, VM(CR4))                        \
	X(CR8, "cr8", 64, "int", "", SYSTEM, VM(CR8))                        \
	X(EFER, "efer", 64, "int", "", SYSTEM, VM(EFER))                     \
	X(GDTR_BASE, "gdtr_base", 64, "data_ptr", "system", DESCRIPTORS,     \
	  DESC(GDTR, base))                                                  \
	X(GDTR_LIMIT, "gdtr_limit", 16, "uint16", "system", DESCRIPTORS,     \
	  DESC(GDTR, limit))                                                 \
	X(IDTR_BASE, "idtr_base", 64, "data_ptr", "system", DESCRIPTORS,     \
	  DESC(IDTR, base))                                                  \
	X(IDTR_LIMIT, "idtr_limit", 16, "uint16", "system", DESCRIPTORS,     \
	  DESC(IDTR, limit))                                                 \
	X(LDTR, "ldtr", 32, "int32", "system", DESCRIPTORS, VM(LDTR))        \
	X(LDTR_BASE, "ldtr_base", 64, "data_ptr", "system", DESCRIPTORS,     \
	  DESC(LDTR, base))                                                  \
	X(LDTR_LIMIT, "ldtr_limit", 32, "uint32", "system", DESCRIPTORS,     \
	  DESC(LDTR, limit))                                                 \
	X(LDTR_ATTR, "ldtr_attr", 32, "x86_seg_attr", "system", DESCRIPTORS, \
	  DESC(LDTR, access))                                                \
	X(TR, "tr", 32, "int32", "system", DESCRIPTORS, VM(TR))              \
	X(TR_BASE, "tr_base", 64, "data_ptr", "system", DESCRIPTORS,         \
	  DESC(TR, base))                                                    \
	X(TR_LIMIT, "tr_limit", 32, "uint32", "system", DESCRIPTORS,         \
	  DESC(TR, limit))                                                   \
	X(TR_ATTR, "tr_attr", 32, "x86_seg_attr", "system", DESCRIPTORS,     \
	  DESC(TR, access))                                                  \
	X(CS_BASE, "cs_base", 64, "data_ptr", "system", DESCRIPTORS,         \
	  DESC(CS, base))                                                    \
	X(CS_LIMIT, "cs_limit", 32, "uint32", "system", DESCRIPTORS,         \
	  DESC(CS, limit))                                                   \
	X(CS_ATTR, "cs_attr", 32, "x86_seg_attr", "system", DESCRIPTORS,     \
	  DESC(CS, access))                                                  \
	X(SS_BASE, "ss_base", 64, "data_ptr", "system", DESCRIPTORS,         \
	  DESC(SS, base))                                                    \
	X(SS_LIMIT, "ss_limit", 32, "uint32", "system", DESCRIPTORS,         \
	  DESC(SS, limit))                                                   \
	X(SS_ATTR, "ss_attr", 32, "x86_seg_attr", "system", DESCRIPTORS,     \
	  DESC(SS, access))                                                  \
	X(DS_BASE, "ds_base", 64, "data_ptr", "system", DESCRIPTORS,         \
	  DESC(DS, base))                                                    \
	X(DS_LIMIT, "ds_limit", 32, "uint32", "system", DESCRIPTORS,         \
	  DESC(DS, limit))                                                   \
	X(DS_ATTR, "ds_attr", 32, "x86_seg_attr", "system", DESCRIPTORS,     \
	  DESC(DS, access))                                                  \
	X(ES_BASE, "es_base", 64, "data_ptr", "system", DESCRIPTORS,         \
	  DESC(ES, base))                                                    \
	X(ES_LIMIT, "es_limit", 32, "uint32", "system", DESCRIPTORS,         \
	  DESC(ES, limit))                                                   \
	X(ES_ATTR, "es_attr", 32, "x86_seg_attr", "system", DESCRIPTORS,     \
	  DESC(ES, access))                                                  \
	X(FS_LIMIT, "fs_limit", 32, "uint32", "system", DESCRIPTORS,         \
	  DESC(FS, limit))                                                   \
	X(FS_ATTR, "fs_attr", 32, "x86_seg_attr", "system", DESCRIPTORS,     \
	  DESC(FS, access))                                                  \
	X(GS_LIMIT, "gs_limit", 32, "uint32", "system", DESCRIPTORS,         \
	  DESC(GS, limit))                                                   \
	X(GS_ATTR, "gs_attr", 32, "x86_seg_attr", "system", DESCRIPTORS,     \
	  DESC(GS, access))                                                  \
	X(DR0, "dr0", 64, "data_ptr", "system", DEBUG_REGS, VM(DR0))         \
	X(DR1, "dr1", 64, "data_ptr", "system", DEBUG_REGS, VM(DR1))         \
	X(DR2, "dr2", 64, "data_ptr", "system", DEBUG_REGS, VM(DR2))         \
	X(DR3, "dr3", 64, "data_ptr", "system", DEBUG_REGS, VM(DR3))         \
	X(DR6, "dr6", 64, "uint64", "system", DEBUG_REGS, VM(DR6))           \
	X(DR7, "dr7", 64, "uint64", "system", DEBUG_REGS, VM(DR7))

/* The length of a 'g' reply in bytes (before hex encoding). */
#define GDB_X86_REG_BYTES(ID, name, bits, type, group, feature, place) \
	+(bits) / 8
#define GDB_X86_G_PACKET_BYTES (0 GDB_X86_REGS(GDB_X86_REG_BYTES))

#endif
