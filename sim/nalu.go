package sim

// naluClass is the role of a NAL unit in access unit splitting.
type naluClass int

const (
	classOther  naluClass = iota // belongs to the current access unit (e.g. suffix SEI, filler)
	classVCL                     // coded slice
	classAUD                     // access unit delimiter: always starts an access unit
	classPrefix                  // SEI, reserved prefix types: start an access unit after a VCL unit
	classVPS
	classSPS
	classPPS
)

// naluKind holds the codec-specific NAL header rules.
type naluKind struct {
	headerLen       int
	classify        func(n []byte) naluClass
	firstSliceInPic func(n []byte) bool // n is a VCL unit of at least headerLen+1 bytes
}

var h264Kind = naluKind{
	headerLen: 1,
	classify: func(n []byte) naluClass {
		switch t := n[0] & 0x1f; {
		case t >= 1 && t <= 5:
			return classVCL
		case t == 9:
			return classAUD
		case t == 7:
			return classSPS
		case t == 8:
			return classPPS
		case t == 6 || (t >= 14 && t <= 18):
			return classPrefix
		default:
			return classOther
		}
	},
	// first_mb_in_slice is the first ue(v) of the slice header; it is 0 iff
	// its first bit is 1.
	firstSliceInPic: func(n []byte) bool { return len(n) > 1 && n[1]&0x80 != 0 },
}

var h265Kind = naluKind{
	headerLen: 2,
	classify: func(n []byte) naluClass {
		switch t := (n[0] >> 1) & 0x3f; {
		case t <= 31:
			return classVCL
		case t == 35:
			return classAUD
		case t == 32:
			return classVPS
		case t == 33:
			return classSPS
		case t == 34:
			return classPPS
		case t == 39 || (t >= 41 && t <= 44) || (t >= 48 && t <= 55):
			return classPrefix
		default:
			return classOther
		}
	},
	// first_slice_segment_in_pic_flag is the first bit after the header.
	firstSliceInPic: func(n []byte) bool { return len(n) > 2 && n[2]&0x80 != 0 },
}

// isVCL reports whether n is a coded slice of codec c.
func isVCL(c Codec, n []byte) bool {
	if c == H265 {
		return len(n) >= 2 && h265Kind.classify(n) == classVCL
	}
	return len(n) >= 1 && h264Kind.classify(n) == classVCL
}

// headerLen is the NAL unit header size of codec c.
func headerLen(c Codec) int {
	if c == H265 {
		return 2
	}
	return 1
}
