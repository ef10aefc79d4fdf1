"""Take README screenshots of a running Candlewise (headless Chromium), e.g. after `make run`.

    .venv/bin/python scripts/screenshot.py --url http://127.0.0.1:8050 --email admin@candlewise.local \
        --password ... --page / --out docs/market.png
"""
from __future__ import annotations

import argparse
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="http://127.0.0.1:8050")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--page", action="append", default=[])
    p.add_argument("--out", action="append", default=[])
    p.add_argument("--wait-for", default=".main-svg")
    args = p.parse_args()
    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=1440,1000", "--hide-scrollbars"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(options=opts)
    try:
        driver.get(f"{args.url}/login")
        driver.find_element(By.ID, "email").send_keys(args.email)
        driver.find_element(By.ID, "password").send_keys(args.password)
        driver.find_element(By.ID, "login-submit").click()
        for page, out in zip(args.page or ["/"], args.out or ["screenshot.png"]):
            driver.get(f"{args.url}{page}")
            WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, args.wait_for)))
            time.sleep(2)
            driver.save_screenshot(out)
            print("saved", out)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
