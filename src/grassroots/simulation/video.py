"""Tiny, valid MP4 clips for demo video posts, made without ffmpeg.

The clip is H.264 (Constrained Baseline profile) in an MP4 container: the first frame
is an IDR picture whose macroblocks are all ``I_PCM`` (raw samples, no transform, no
entropy coding of pixels), and every following frame is a P picture in which each
macroblock copies the previous frame two pixels lower (one motion vector, no residual;
two luma pixels are one whole chroma sample, so the copies are exact): the picture
glides slowly upwards, a cheap "Ken Burns" effect. Every decoder supports
these tools; the bitstream writer below is all that is needed. The same image always
gives the same bytes.
"""

from __future__ import annotations

import io
import re
import struct

from PIL import Image

WIDTH, HEIGHT = 240, 320  # multiples of 16 (macroblocks)
FPS = 12
SECONDS = 3
LEVEL_IDC = 30  # level 3.0: up to 1620 macroblocks a frame
GLIDE = 8  # quarter luma samples the picture moves up each frame


class _Bits:
    """An RBSP writer: fixed-width fields, Exp-Golomb codes and raw aligned bytes."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0  # bits in acc

    def u(self, width: int, value: int) -> None:
        self.acc = (self.acc << width) | (value & ((1 << width) - 1))
        self.n += width
        while self.n >= 8:
            self.n -= 8
            self.out.append((self.acc >> self.n) & 0xFF)
        self.acc &= (1 << self.n) - 1

    def ue(self, value: int) -> None:
        x = value + 1
        self.u(2 * x.bit_length() - 1, x)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        if self.n:
            self.u(8 - self.n, 0)

    def raw(self, data: bytes) -> None:
        assert self.n == 0
        self.out += data

    def trailing(self) -> bytes:
        self.u(1, 1)
        self.align_zero()
        return bytes(self.out)


_EMULATION = re.compile(b"\x00\x00(?=[\x00-\x03])")


def _nal(header: int, rbsp: bytes) -> bytes:
    """A NAL unit: the header byte and the payload with emulation prevention bytes."""
    return bytes([header]) + _EMULATION.sub(b"\x00\x00\x03", rbsp)


def _sps(mbs_w: int, mbs_h: int) -> bytes:
    b = _Bits()
    b.u(8, 66)  # profile_idc: Baseline
    b.u(8, 0xC0)  # constraint_set0 and set1: Constrained Baseline
    b.u(8, LEVEL_IDC)
    b.ue(0)  # seq_parameter_set_id
    b.ue(0)  # log2_max_frame_num_minus4: frame_num has 4 bits
    b.ue(2)  # pic_order_cnt_type 2: output order is decoding order
    b.ue(1)  # max_num_ref_frames
    b.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    b.ue(mbs_w - 1)
    b.ue(mbs_h - 1)
    b.u(1, 1)  # frame_mbs_only_flag
    b.u(1, 1)  # direct_8x8_inference_flag
    b.u(1, 0)  # frame_cropping_flag
    b.u(1, 0)  # vui_parameters_present_flag
    return _nal(0x67, b.trailing())


def _pps() -> bytes:
    b = _Bits()
    b.ue(0)  # pic_parameter_set_id
    b.ue(0)  # seq_parameter_set_id
    b.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    b.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)  # num_slice_groups_minus1
    b.ue(0)  # num_ref_idx_l0_default_active_minus1
    b.ue(0)  # num_ref_idx_l1_default_active_minus1
    b.u(1, 0)  # weighted_pred_flag
    b.u(2, 0)  # weighted_bipred_idc
    b.se(0)  # pic_init_qp_minus26
    b.se(0)  # pic_init_qs_minus26
    b.se(0)  # chroma_qp_index_offset
    b.u(1, 1)  # deblocking_filter_control_present_flag
    b.u(1, 0)  # constrained_intra_pred_flag
    b.u(1, 0)  # redundant_pic_cnt_present_flag
    return _nal(0x68, b.trailing())


def _yuv(img: Image.Image) -> tuple[bytes, bytes, bytes]:
    """Planar 4:2:0 samples in the video (16–235) range."""
    y, cb, cr = img.convert("YCbCr").split()
    half = (img.width // 2, img.height // 2)
    luma = y.point(lambda v: 16 + v * 219 // 255)
    chroma = [c.resize(half, Image.Resampling.BOX).point(lambda v: 128 + (v - 128) * 224 // 255) for c in (cb, cr)]
    return luma.tobytes(), chroma[0].tobytes(), chroma[1].tobytes()


def _idr(img: Image.Image) -> bytes:
    w, h = img.size
    luma, cb, cr = _yuv(img)
    b = _Bits()
    b.ue(0)  # first_mb_in_slice
    b.ue(7)  # slice_type: I (all slices)
    b.ue(0)  # pic_parameter_set_id
    b.u(4, 0)  # frame_num
    b.ue(0)  # idr_pic_id
    b.u(1, 0)  # no_output_of_prior_pics_flag
    b.u(1, 0)  # long_term_reference_flag
    b.se(0)  # slice_qp_delta
    b.ue(1)  # disable_deblocking_filter_idc
    cw = w // 2
    for my in range(h // 16):
        for mx in range(w // 16):
            if b.n:  # only the first macroblock starts unaligned, right after the header
                b.ue(25)  # mb_type: I_PCM
                b.align_zero()
            else:
                b.raw(_PCM_MB_TYPE)
            b.raw(b"".join(luma[(my * 16 + r) * w + mx * 16 : (my * 16 + r) * w + mx * 16 + 16] for r in range(16)))
            for plane in (cb, cr):
                b.raw(b"".join(plane[(my * 8 + r) * cw + mx * 8 : (my * 8 + r) * cw + mx * 8 + 8] for r in range(8)))
    return _nal(0x65, b.trailing())


_PCM_MB_TYPE = b"\x0d\x00"  # ue(25) = 0000 1101 0, then pcm_alignment_zero_bits


def _glide(frame_num: int, n_mbs: int, mv_y: int) -> bytes:
    """A P picture: every macroblock P_L0_16x16 with the same motion vector, no residual.
    Motion vector prediction gives that vector to all but the first macroblock, so only
    the first one codes a difference."""
    b = _Bits()
    b.ue(0)  # first_mb_in_slice
    b.ue(5)  # slice_type: P (all slices)
    b.ue(0)  # pic_parameter_set_id
    b.u(4, frame_num % 16)
    b.u(1, 0)  # num_ref_idx_active_override_flag
    b.u(1, 0)  # ref_pic_list_modification_flag_l0
    b.u(1, 0)  # adaptive_ref_pic_marking_mode_flag: sliding window
    b.se(0)  # slice_qp_delta
    b.ue(1)  # disable_deblocking_filter_idc
    b.ue(0)  # mb_skip_run
    b.ue(0)  # mb_type: P_L0_16x16
    b.se(0)  # mvd_l0 x
    b.se(mv_y)  # mvd_l0 y, quarter samples
    b.ue(0)  # coded_block_pattern 0 (inter)
    # Every other macroblock: skip run 0, P_L0_16x16, mvd (0, 0), no coded blocks: 1 1 1 1 1
    for _ in range(n_mbs - 1):
        b.u(5, 0b11111)
    return _nal(0x41, b.trailing())


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _mp4(width: int, height: int, sps: bytes, pps: bytes, samples: list[bytes], fps: int) -> bytes:
    timescale, delta = fps * 1000, 1000
    duration = len(samples) * delta
    movie_ms = duration * 1000 // timescale
    avcc = _box(
        b"avcC",
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),
        struct.pack(">H", len(sps)),
        sps,
        bytes([1]),
        struct.pack(">H", len(pps)),
        pps,
    )
    avc1 = _box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HHII", width, height, 0x480000, 0x480000),
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        bytes([10]) + b"Grassroots".ljust(31, b"\0"),
        struct.pack(">Hh", 0x18, -1),
        avcc,
    )
    sizes = [4 + len(s) for s in samples]

    def moov(mdat_offset: int) -> bytes:
        stbl = _box(
            b"stbl",
            _full(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
            _full(b"stts", 0, 0, struct.pack(">III", 1, len(samples), delta)),
            _full(b"stss", 0, 0, struct.pack(">II", 1, 1)),
            _full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, len(samples), 1)),
            _full(b"stsz", 0, 0, struct.pack(f">II{len(sizes)}I", 0, len(sizes), *sizes)),
            _full(b"stco", 0, 0, struct.pack(">II", 1, mdat_offset)),
        )
        minf = _box(
            b"minf",
            _full(b"vmhd", 0, 1, bytes(8)),
            _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1))),
            stbl,
        )
        mdia = _box(
            b"mdia",
            _full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0)),
            _full(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\0"),
            minf,
        )
        tkhd = _full(
            b"tkhd",
            0,
            3,  # enabled, in the movie
            struct.pack(">IIIII", 0, 0, 1, 0, movie_ms),
            bytes(8),
            struct.pack(">hhhH", 0, 0, 0, 0),
            _MATRIX,
            struct.pack(">II", width << 16, height << 16),
        )
        mvhd = _full(
            b"mvhd",
            0,
            0,
            struct.pack(">IIII", 0, 0, 1000, movie_ms),
            struct.pack(">IH", 0x10000, 0x100),
            bytes(10),
            _MATRIX,
            bytes(24),
            struct.pack(">I", 2),  # next_track_ID
        )
        return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))

    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    head = len(ftyp) + len(moov(0)) + 8  # the moov's size does not depend on the offset
    mdat = _box(b"mdat", *(struct.pack(">I", len(s)) + s for s in samples))
    return ftyp + moov(head) + mdat


def pan_clip(image: bytes, size: tuple[int, int] = (WIDTH, HEIGHT), fps: int = FPS, seconds: int = SECONDS) -> bytes:
    """An MP4 of ``image`` (any format Pillow reads) gliding upwards, ``seconds`` long."""
    width, height = size
    assert width % 16 == 0 and height % 16 == 0
    with Image.open(io.BytesIO(image)) as opened:
        img = opened.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    n_mbs = (width // 16) * (height // 16)
    frames = [_idr(img)] + [_glide(i, n_mbs, GLIDE) for i in range(1, fps * seconds)]
    return _mp4(width, height, _sps(width // 16, height // 16), _pps(), frames, fps)
