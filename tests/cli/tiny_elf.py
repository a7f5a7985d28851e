"""Build small ELF files for the CLI tests: good tiny guests and every kind
of broken file, with nothing but the standard library."""

import struct

ELF_BASE = 0x100000  # guests load at or above 1 MiB
CODE_OFFSET = 0x1000

ET_EXEC, ET_DYN = 2, 3
EM_386, EM_X86_64 = 3, 62
PT_LOAD = 1


def elf64(code, paddr=ELF_BASE, entry=None, etype=ET_EXEC,
          machine=EM_X86_64, elf_class=2, memsz=None):
    """An ELF64 executable with one PT_LOAD segment holding code."""
    entry = paddr if entry is None else entry
    memsz = len(code) if memsz is None else memsz
    ident = b"\x7fELF" + bytes([elf_class, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH", etype, machine, 1, entry, 64, 0, 0, 64, 56, 1,
        64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", PT_LOAD, 5, CODE_OFFSET, paddr, paddr,
                       len(code), memsz, 0x1000)
    image = header + phdr
    return image + bytes(CODE_OFFSET - len(image)) + code


class Asm:
    """Just enough of an assembler for hand-encoded code with rel8 jumps."""

    def __init__(self):
        self.parts, self.labels = [], {}

    def emit(self, *chunks):
        for c in chunks:
            self.parts.append(bytes(c))
        return self

    def label(self, name):
        self.labels[name] = sum(len(p) if isinstance(p, bytes) else 2
                                for p in self.parts)
        return self

    def jump(self, opcode, target):
        self.parts.append((opcode, target))
        return self

    def build(self):
        out, pos = b"", 0
        for p in self.parts:
            if isinstance(p, bytes):
                out += p
                pos += len(p)
                continue
            opcode, target = p
            rel = self.labels[target] - (pos + 2)
            assert -128 <= rel <= 127
            out += bytes([opcode, rel & 0xff])
            pos += 2
        return out


JZ, JNZ, JMP = 0x74, 0x75, 0xEB
COM1 = [0x66, 0xBA, 0xF8, 0x03]  # mov dx, 0x3f8


def echo_guest(exit_value=0x21):
    """vCPU 0 prints the command line, '|', the vCPU count (rsi) as a digit,
    a newline, then writes exit_value to port 0xf4. Other vCPUs halt."""
    a = Asm()
    a.emit([0x85, 0xFF]).jump(JNZ, "ap")           # test edi,edi; jnz ap
    a.emit(COM1)
    a.emit([0x48, 0x85, 0xC9]).jump(JZ, "tail")    # test rcx,rcx; jz tail
    a.label("loop")
    a.emit([0x8A, 0x01], [0x84, 0xC0]).jump(JZ, "tail")  # mov al,[rcx]
    a.emit([0xEE], [0x48, 0xFF, 0xC1]).jump(JMP, "loop")  # out; inc rcx
    a.label("tail")
    a.emit([0xB0, ord("|")], [0xEE])               # mov al,'|'; out
    a.emit([0x89, 0xF0], [0x04, 0x30], [0xEE])     # mov eax,esi; add al,'0'
    a.emit([0xB0, 0x0A], [0xEE])                   # newline
    a.emit([0xB0, exit_value & 0xFF], [0xE6, 0xF4])  # out 0xf4, al
    a.label("ap")
    a.emit([0xF4]).jump(JMP, "ap")                 # hlt; jmp ap
    return a.build()


def spin_guest():
    """Loops forever (for the signal tests)."""
    return bytes([0xEB, 0xFE])


def fault_guest():
    """Reads 4 GiB, which the boot page tables do not map."""
    return (bytes([0x48, 0xB8]) + struct.pack("<Q", 1 << 32) +
            bytes([0x8A, 0x00, 0xF4, 0xEB, 0xFD]))


JB, JA = 0x72, 0x77


def uart_echo_guest(delay=0):
    """Raises DTR and RTS (ready to receive), prints "ready", then echoes every byte COM1 receives (polling LSR),
    lowercase letters upper-cased; '!' ends the VM with exit value 0x21
    (status 67) and '?' crashes it (a read of unmapped memory, status 3).
    delay: iterations of an idle loop after each byte, a slow reader that
    leaves input waiting in the FIFO."""
    a = Asm()
    a.emit([0x66, 0xBA, 0xFC, 0x03], [0xB0, 0x03], [0xEE])  # MCR = DTR|RTS
    a.emit([0x66, 0xBA, 0xF8, 0x03])                 # mov dx, 0x3f8
    for ch in b"ready\n":
        a.emit([0xB0, ch], [0xEE])                   # mov al, ch; out
    a.label("poll")
    a.emit([0x66, 0xBA, 0xFD, 0x03], [0xEC])         # mov dx, 0x3fd; in
    a.emit([0xA8, 0x01]).jump(JZ, "poll")            # test al, 1 (DR)
    a.emit([0x66, 0xBA, 0xF8, 0x03], [0xEC])         # mov dx, 0x3f8; in
    a.emit([0x3C, ord("!")]).jump(JZ, "exit")
    a.emit([0x3C, ord("?")]).jump(JZ, "crash")
    a.emit([0x3C, ord("a")]).jump(JB, "out")
    a.emit([0x3C, ord("z")]).jump(JA, "out")
    a.emit([0x2C, 0x20])                             # sub al, 0x20
    a.label("out")
    a.emit([0xEE])                                   # out dx, al
    a.emit([0xB9], struct.pack("<I", delay + 1))     # mov ecx, delay + 1
    a.label("idle")
    a.emit([0xFF, 0xC9]).jump(JNZ, "idle")           # dec ecx; jnz idle
    a.jump(JMP, "poll")
    a.label("exit")
    a.emit([0xE6, 0xF4])                             # out 0xf4, al
    a.label("end")
    a.emit([0xF4]).jump(JMP, "end")                  # hlt; jmp end
    a.label("crash")
    a.emit([0x48, 0xB8], struct.pack("<Q", 1 << 32))  # mov rax, 4 GiB
    a.emit([0x8A, 0x00])                             # mov al, [rax]
    a.emit([0xF4]).jump(JMP, "crash")
    return a.build()
