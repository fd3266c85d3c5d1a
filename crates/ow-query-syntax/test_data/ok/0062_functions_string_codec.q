fields urlencode(s), urldecode(s), base64encode(s), base64decode(s), split(s, ","), hexToAscii(h), hexToDec("0xff"), decToHex(255)
