"""Where in the program a blocked call was made: the call site behind the libc wrapper.

A process asleep in read() sleeps inside libc (`read`, or glibc's cancellation helpers);
what a student wants is the line of *their* program that called read().  From the
registers the kernel shows (/proc/PID/syscall ends with the stack pointer and the program
counter), the frames inside the library are unwound with its call frame information
(`.eh_frame`, else `.debug_frame`, read by pyelftools), the stack read from /proc/PID/mem,
until the return address lies in another object: the program.  That address is mapped back
to the binary (its load bias from /proc/PID/maps and the ELF program headers: PIE and
shared objects alike), then to a function name (.symtab / .dynsym) and, with debug
information (`cc -g`), to file and line (the DWARF line program).

x86_64: /proc/PID/syscall alone is enough (the wrapper keeps its return address on the
stack).  aarch64: a leaf wrapper keeps it in x30, which /proc does not show; pass the
registers (`regs={"pc":…, "sp":…, "lr":…}`, as a tracer has them), else the answer is
None.  Reading /proc/PID/mem is a read: it changes nothing in the process.

Every failure (no such process, no permission, no CFI, a frame that cannot be unwound) is
None, never an exception; the work is bounded (frames, bytes, table sizes), and what is
learnt of a binary is cached per (path, build-id).
"""

from __future__ import annotations

import bisect
import os
import platform
import struct
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from elftools.common.exceptions import ELFError
from elftools.dwarf.callframe import CIE, FDE, CFARule, RegisterRule
from elftools.elf.elffile import ELFFile

MAX_FRAMES = 12  # library frames unwound before giving up (glibc needs 1 to 3)
MAX_LINE_ROWS = 2_000_000  # rows of a binary's line table kept (a large program's)
MAX_FDES = 500_000
MAX_BINARIES = 16  # binaries whose tables are kept (per ipcviz process)
# Sections larger than these are not parsed (pure Python takes about a second per few MB):
# a huge program gets its function name, not its line.
MAX_CFI_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = 8 * 1024 * 1024

# DWARF register numbers (the psABIs): stack pointer, return-address column, frame pointer.
ARCHES: dict[str, dict[str, int]] = {
    "x86_64": {"sp": 7, "ra": 16, "fp": 6},
    "aarch64": {"sp": 31, "ra": 30, "fp": 29},
}
ARCHES["arm64"] = ARCHES["aarch64"]
_REG_NAMES = {"x86_64": {"rbp": 6, "fp": 6, "rbx": 3, "r12": 12, "r13": 13, "r14": 14,
                         "r15": 15},
              "aarch64": {"lr": 30, "x30": 30, "fp": 29, "x29": 29}}


@dataclass(frozen=True)
class CallSite:
    """The instruction of the program that called into the library."""

    address: int  # the call instruction's address in the running process (return address - 1)
    binary: str  # path of the object it lies in, from /proc/PID/maps
    offset: int  # its address in that binary (link-time virtual address)
    function: str | None  # symbol around it; None if stripped
    file: str | None = None  # source file of the call, with debug information
    line: int | None = None
    depth: int = 0  # library frames unwound to get here

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else None
        fn = f"{self.function}()" if self.function else f"{os.path.basename(self.binary)}+" \
            f"0x{self.offset:x}"
        return f"{fn} at {where}" if where else fn


# -- /proc ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MapEntry:
    start: int
    end: int
    offset: int
    inode: int
    path: str


def parse_maps(text: str) -> list[MapEntry]:
    """File-backed mappings of /proc/PID/maps (address range, file offset, inode, path)."""
    out = []
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[5].startswith("/"):
            continue
        lo, _, hi = parts[0].partition("-")
        out.append(MapEntry(int(lo, 16), int(hi, 16), int(parts[2], 16), int(parts[4]),
                            parts[5]))
    return out


def regs_from_syscall(text: str) -> dict[str, int] | None:
    """{"sp", "pc"} of /proc/PID/syscall ("NR a1 … a6 SP PC"); None if running or not in a
    system call."""
    parts = text.split()
    if len(parts) < 3 or parts[0] == "running" or parts[0].startswith("-"):
        return None
    try:
        return {"sp": int(parts[-2], 16), "pc": int(parts[-1], 16)}
    except ValueError:
        return None


# -- one binary ------------------------------------------------------------------------------

@dataclass
class Binary:
    """What is needed of one ELF file, each table built on first use."""

    path: str
    build_id: str | None
    loads: list[tuple[int, int, int]]  # PT_LOAD (p_offset, p_filesz, p_vaddr)
    _elf: ELFFile | None = None
    _file: BinaryIO | None = None
    _fdes: tuple[list[int], list[Any]] | None = None
    _syms: tuple[list[int], list[tuple[int, str]]] | None = None
    _lines: tuple[list[int], list[tuple[str | None, int]]] | None = None
    _tried: set[str] = field(default_factory=set)

    def vaddr(self, file_offset: int) -> int | None:
        for off, size, va in self.loads:
            if off <= file_offset < off + size:
                return file_offset - off + va
        return None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def fde(self, va: int) -> Any:
        if self._fdes is None and "cfi" not in self._tried:
            self._tried.add("cfi")
            self._fdes = _fde_table(self._elf)
        if not self._fdes:
            return None
        starts, fdes = self._fdes
        i = bisect.bisect_right(starts, va) - 1
        if i < 0:
            return None
        f = fdes[i]
        return f if va < f["initial_location"] + f["address_range"] else None

    def symbol(self, va: int) -> str | None:
        if self._syms is None and "syms" not in self._tried:
            self._tried.add("syms")
            self._syms = _symbol_table(self._elf)
        if not self._syms:
            return None
        starts, ends = self._syms
        i = bisect.bisect_right(starts, va) - 1
        if i < 0 or va >= ends[i][0]:
            return None
        return ends[i][1]

    def line(self, va: int) -> tuple[str | None, int] | None:
        if self._lines is None and "lines" not in self._tried:
            self._tried.add("lines")
            self._lines = _line_table(self._elf)
        if not self._lines:
            return None
        addrs, rows = self._lines
        i = bisect.bisect_right(addrs, va) - 1
        if i < 0 or rows[i][0] is None:  # before the first row, or past an end_sequence
            return None
        return rows[i]


def _too_big(elf: ELFFile, names: tuple[str, ...], limit: int) -> bool:
    for name in names:
        sec = elf.get_section_by_name(name)
        if sec is not None and sec["sh_size"] > limit:
            return True
    return False


def _fde_table(elf: ELFFile | None) -> tuple[list[int], list[Any]] | None:
    if elf is None or _too_big(elf, (".eh_frame", ".debug_frame"), MAX_CFI_BYTES):
        return None
    dwarf = elf.get_dwarf_info(relocate_dwarf_sections=False, follow_links=False)
    if dwarf.has_EH_CFI():
        entries = dwarf.EH_CFI_entries()
    elif dwarf.has_CFI():
        entries = dwarf.CFI_entries()
    else:
        return None
    fdes = sorted((e for e in entries if isinstance(e, FDE)),
                  key=lambda e: e["initial_location"])[:MAX_FDES]
    return [f["initial_location"] for f in fdes], fdes


def _symbol_table(elf: ELFFile | None) -> tuple[list[int], list[tuple[int, str]]] | None:
    if elf is None:
        return None
    found: dict[int, tuple[int, str]] = {}
    for name in (".dynsym", ".symtab"):  # .symtab's local names win over exported aliases
        sec = elf.get_section_by_name(name)
        if sec is None or not hasattr(sec, "iter_symbols"):
            continue
        for sym in sec.iter_symbols():
            if sym["st_info"]["type"] != "STT_FUNC" or not sym["st_value"] or not sym.name:
                continue
            found[sym["st_value"]] = (sym["st_value"] + max(1, sym["st_size"]), sym.name)
    if not found:
        return None
    starts = sorted(found)
    return starts, [found[s] for s in starts]


def _file_name(prog: Any, index: int) -> str | None:
    """The path of file INDEX of a line program (DWARF 5 counts from 0, earlier from 1)."""
    entries = prog["file_entry"]
    i = index if prog["version"] >= 5 else index - 1
    if not 0 <= i < len(entries):
        return None
    entry = entries[i]
    name = _text(entry.name)
    dirs = prog["include_directory"]
    d = entry.dir_index if prog["version"] >= 5 else entry.dir_index - 1
    if os.path.isabs(name) or not 0 <= d < len(dirs):
        return name
    return os.path.join(_text(dirs[d]), name)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _line_table(elf: ELFFile | None) -> tuple[list[int], list[tuple[str | None, int]]] | None:
    if elf is None or not elf.has_dwarf_info() or \
            _too_big(elf, (".debug_line", ".debug_info"), MAX_LINE_BYTES):
        return None
    dwarf = elf.get_dwarf_info(follow_links=False)
    if not dwarf.has_debug_info:
        return None
    rows: list[tuple[int, int, str | None, int]] = []  # (address, order, file, line)
    for cu in dwarf.iter_CUs():
        prog = dwarf.line_program_for_CU(cu)
        if prog is None:
            continue
        names: dict[int, str | None] = {}
        for entry in prog.get_entries():
            st = entry.state
            if st is None:
                continue
            if st.end_sequence:
                rows.append((st.address, len(rows), None, 0))
                continue
            if st.file not in names:
                names[st.file] = _file_name(prog, st.file)
            rows.append((st.address, len(rows), names[st.file], st.line))
            if len(rows) > MAX_LINE_ROWS:
                return None
    if not rows:
        return None
    rows.sort()
    return [r[0] for r in rows], [(r[2], r[3]) for r in rows]


def _build_id(elf: ELFFile) -> str | None:
    sec = elf.get_section_by_name(".note.gnu.build-id")
    if sec is None or not hasattr(sec, "iter_notes"):
        return None
    for note in sec.iter_notes():
        if note["n_type"] == "NT_GNU_BUILD_ID":
            return str(note["n_desc"])
    return None


_CACHE: OrderedDict[tuple[str, str | None], Binary] = OrderedDict()
# (path, device, inode, size, mtime) -> the key of _CACHE: a file seen before is not parsed
# again to read its build-id (that parse is most of a later lookup's cost)
_KEYS: dict[tuple[str, int, int, int, int], tuple[str, str | None]] = {}


def _binary(pid: int, m: MapEntry) -> Binary | None:
    """The ELF file of mapping M, checked to be the very file mapped (its inode)."""
    for path in (f"/proc/{pid}/root{m.path}", m.path):
        try:
            f = open(path, "rb")
        except OSError:
            continue
        try:
            st = os.fstat(f.fileno())
            if st.st_ino != m.inode:
                f.close()
                continue
            ident = (m.path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            known = _KEYS.get(ident)
            if known is not None and known in _CACHE:
                f.close()
                _CACHE.move_to_end(known)
                return _CACHE[known]
            elf = ELFFile(f)
            key = (m.path, _build_id(elf))
        except (ELFError, OSError, ValueError):
            f.close()
            return None
        if len(_KEYS) > 16 * MAX_BINARIES:
            _KEYS.clear()
        _KEYS[ident] = key
        cached = _CACHE.get(key)
        if cached is not None:
            f.close()
            _CACHE.move_to_end(key)
            return cached
        loads = [(s["p_offset"], s["p_filesz"], s["p_vaddr"]) for s in elf.iter_segments()
                 if s["p_type"] == "PT_LOAD"]
        b = Binary(m.path, key[1], loads, elf, f)
        _CACHE[key] = b
        while len(_CACHE) > MAX_BINARIES:
            _CACHE.popitem(last=False)[1].close()
        return b
    return None


# -- unwinding -------------------------------------------------------------------------------

def _row_at(fde: Any, va: int) -> tuple[dict[Any, Any], int] | None:
    """The CFI row that applies at VA, and the return-address column."""
    decoded = fde.get_decoded()
    row = None
    for r in decoded.table:
        if r["pc"] <= va:
            row = r
        else:
            break
    cie = fde.cie if isinstance(fde.cie, CIE) else None
    if row is None or cie is None:
        return None
    return row, int(cie["return_address_register"])


class _Unwound(Exception):
    """A frame could not be unwound (a rule we do not evaluate, unreadable memory)."""


def _step(row: dict[Any, Any], ra_col: int, regs: dict[int, int], sp_reg: int,
          mem: int) -> dict[int, int]:
    """The caller's registers from the callee's (REGS, DWARF numbers) and a CFI row."""
    cfa_rule = row["cfa"]
    if not isinstance(cfa_rule, CFARule) or cfa_rule.expr is not None or \
            cfa_rule.reg not in regs:
        raise _Unwound("CFA")
    cfa = regs[cfa_rule.reg] + (cfa_rule.offset or 0)
    out = dict(regs)  # SAME_VALUE for every register without a rule
    for reg, rule in row.items():
        if isinstance(reg, int) and isinstance(rule, RegisterRule) and \
                rule.type != RegisterRule.SAME_VALUE:
            value = _apply(rule, cfa, regs, mem)
            if value is None:
                out.pop(reg, None)  # UNDEFINED, or an expression we do not evaluate
            else:
                out[reg] = value
    out[sp_reg] = cfa
    if ra_col not in out:
        raise _Unwound("return address")
    return out


def _apply(rule: RegisterRule, cfa: int, regs: dict[int, int], mem: int) -> int | None:
    """The caller's value of one register under RULE (None: not known)."""
    arg = rule.arg if isinstance(rule.arg, int) else 0
    if rule.type == RegisterRule.OFFSET:
        return _read_word(mem, cfa + arg)
    if rule.type == RegisterRule.VAL_OFFSET:
        return cfa + arg
    if rule.type == RegisterRule.REGISTER:
        return regs.get(arg)
    return None


def _read_word(mem: int, addr: int) -> int:
    try:
        data = os.pread(mem, 8, addr)
    except OSError as err:
        raise _Unwound("memory") from err
    if len(data) != 8:
        raise _Unwound("memory")
    value: int = struct.unpack("<Q", data)[0]
    return value


def _where(maps: list[MapEntry], addr: int) -> MapEntry | None:
    for m in maps:
        if m.start <= addr < m.end:
            return m
    return None


def _locate(pid: int, maps: list[MapEntry], addr: int
            ) -> tuple[MapEntry, Binary, int] | None:
    m = _where(maps, addr)
    if m is None:
        return None
    b = _binary(pid, m)
    if b is None:
        return None
    va = b.vaddr(addr - m.start + m.offset)
    return None if va is None else (m, b, va)


def _initial_regs(arch: str, regs: Mapping[str, int]) -> tuple[int, dict[int, int]] | None:
    nums = ARCHES[arch]
    if "pc" not in regs or "sp" not in regs:
        return None
    out = {nums["sp"]: regs["sp"]}
    for name, num in _REG_NAMES.get(arch, {}).items():
        if name in regs:
            out[num] = regs[name]
    return regs["pc"], out


def _unwind(pid: int, mem: int, maps: list[MapEntry], arch: str, pc: int,
            regs: dict[int, int]) -> CallSite | None:
    nums = ARCHES[arch]
    first = _locate(pid, maps, pc)
    if first is None:
        return None
    lib = first[0].path
    lookup = pc  # frame 0 is at the instruction after the syscall: its own row applies
    for depth in range(MAX_FRAMES):
        here = _locate(pid, maps, lookup)
        if here is None:
            return None
        m, b, va = here
        if m.path != lib:
            return _site(b, m, pc, va, depth)
        fde = b.fde(va)
        found = _row_at(fde, va) if fde is not None else None
        if found is None:
            return None
        row, ra_col = found
        regs = _step(row, ra_col, regs, nums["sp"], mem)
        pc = regs[ra_col]
        lookup = pc - 1  # a return address: the call instruction is just before it
    return None


def _site(b: Binary, m: MapEntry, ra: int, va: int, depth: int) -> CallSite:
    line = b.line(va)
    return CallSite(address=ra - 1, binary=m.path, offset=va, function=b.symbol(va),
                    file=line[0] if line else None, line=line[1] if line else None,
                    depth=depth)


def call_site(pid: int, regs: Mapping[str, int] | None = None,
              machine: str | None = None, proc: str = "/proc") -> CallSite | None:
    """The call site in the program of the system call PID sleeps in (or of REGS, as a
    tracer read them: "pc", "sp", and "lr" on aarch64, "rbp"/"fp" when known), or None."""
    arch = machine or platform.machine()
    if arch not in ARCHES:
        return None
    try:
        if regs is None:
            with open(f"{proc}/{pid}/syscall") as f:
                regs = regs_from_syscall(f.read())
            if regs is None:
                return None
        start = _initial_regs(arch, regs)
        if start is None:
            return None
        pc, dwarf_regs = start
        with open(f"{proc}/{pid}/maps") as f:
            maps = parse_maps(f.read())
        mem = os.open(f"{proc}/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        return _unwind(pid, mem, maps, arch, pc, dwarf_regs)
    except (_Unwound, ELFError, OSError, ValueError, KeyError, IndexError, AttributeError,
            struct.error, TypeError):
        return None  # a corrupt or unusual binary: no call site rather than an error
    finally:
        os.close(mem)
