dofile(os.getenv("RENKEI_WRK_DIR") .. "/report.lua")
