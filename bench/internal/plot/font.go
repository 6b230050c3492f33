package plot

// glyphChars lists every character glyph knows, for tests.
const glyphChars = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,:-+=/()%_?"

// glyph returns a 5x7 bitmap of r: each row is five characters, '#' for
// ink. Lower-case letters are drawn with the upper-case glyphs by the
// caller. The font is built in because the module cache holds no font
// package and labels need only a few dozen characters; a switch rather
// than a map keeps it free of package-level state.
func glyph(r rune) ([7]string, bool) {
	switch r {
	case ' ':
		return [7]string{".....", ".....", ".....", ".....", ".....", ".....", "....."}, true
	case '0':
		return [7]string{".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}, true
	case '1':
		return [7]string{"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}, true
	case '2':
		return [7]string{".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}, true
	case '3':
		return [7]string{"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}, true
	case '4':
		return [7]string{"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}, true
	case '5':
		return [7]string{"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}, true
	case '6':
		return [7]string{"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}, true
	case '7':
		return [7]string{"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}, true
	case '8':
		return [7]string{".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}, true
	case '9':
		return [7]string{".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}, true
	case 'A':
		return [7]string{".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}, true
	case 'B':
		return [7]string{"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}, true
	case 'C':
		return [7]string{".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}, true
	case 'D':
		return [7]string{"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}, true
	case 'E':
		return [7]string{"#####", "#....", "#....", "####.", "#....", "#....", "#####"}, true
	case 'F':
		return [7]string{"#####", "#....", "#....", "####.", "#....", "#....", "#...."}, true
	case 'G':
		return [7]string{".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}, true
	case 'H':
		return [7]string{"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}, true
	case 'I':
		return [7]string{".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}, true
	case 'J':
		return [7]string{"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}, true
	case 'K':
		return [7]string{"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}, true
	case 'L':
		return [7]string{"#....", "#....", "#....", "#....", "#....", "#....", "#####"}, true
	case 'M':
		return [7]string{"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}, true
	case 'N':
		return [7]string{"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}, true
	case 'O':
		return [7]string{".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}, true
	case 'P':
		return [7]string{"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}, true
	case 'Q':
		return [7]string{".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}, true
	case 'R':
		return [7]string{"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}, true
	case 'S':
		return [7]string{".####", "#....", "#....", ".###.", "....#", "....#", "####."}, true
	case 'T':
		return [7]string{"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}, true
	case 'U':
		return [7]string{"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}, true
	case 'V':
		return [7]string{"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}, true
	case 'W':
		return [7]string{"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}, true
	case 'X':
		return [7]string{"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}, true
	case 'Y':
		return [7]string{"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}, true
	case 'Z':
		return [7]string{"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}, true
	case '.':
		return [7]string{".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}, true
	case ',':
		return [7]string{".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."}, true
	case ':':
		return [7]string{".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}, true
	case '-':
		return [7]string{".....", ".....", ".....", "#####", ".....", ".....", "....."}, true
	case '+':
		return [7]string{".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."}, true
	case '=':
		return [7]string{".....", ".....", "#####", ".....", "#####", ".....", "....."}, true
	case '/':
		return [7]string{".....", "....#", "...#.", "..#..", ".#...", "#....", "....."}, true
	case '(':
		return [7]string{"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."}, true
	case ')':
		return [7]string{".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."}, true
	case '%':
		return [7]string{"##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"}, true
	case '_':
		return [7]string{".....", ".....", ".....", ".....", ".....", ".....", "#####"}, true
	case '?':
		return [7]string{".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."}, true
	}
	return [7]string{}, false
}

const (
	glyphW = 5
	glyphH = 7
)
