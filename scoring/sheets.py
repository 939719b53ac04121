SHEETS = []
